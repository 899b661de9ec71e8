export { createGate } from './gate.ts';
export { checkSource, denySource, SOURCE_RULE } from './source-check.ts';
export { denialError } from './denial.ts';
export type { Decision, Gate, PullContext, Reason, ReasonCode, ClientIdentity } from './types.ts';
