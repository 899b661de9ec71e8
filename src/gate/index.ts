export { blobDenied, checkSource, denySource, SOURCE_RULE } from './source-check.ts';
export { denialError } from './denial.ts';
export type { Decision, Gate, PullContext, Reason, ReasonCode, ClientIdentity } from './types.ts';
export { createSignatureGate } from './signature-gate.ts';
export type { SignatureGateDeps } from './signature-gate.ts';
