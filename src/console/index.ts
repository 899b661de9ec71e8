export { createConsoleRouter, CONSOLE_DIR, type ConsoleRouterOptions } from './serve-console.ts';
export { CONSOLE_CSP, consoleCsp, tokenEndpointOrigin } from './headers.ts';
