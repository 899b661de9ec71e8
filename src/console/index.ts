export { createConsoleRouter, CONSOLE_DIR } from './serve-console.ts';
export { CONSOLE_CSP } from './headers.ts';
