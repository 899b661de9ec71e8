import type { Response } from 'express';
import type { ClientIdentity } from '../gate/types.ts';

// res.locals lives exactly as long as the request, so the identity cannot outlive it.
const KEY = 'pullClient';

/** Set by the pull-auth middleware once a bearer token verified. */
export function setPullClient(res: Response, identity: ClientIdentity): void {
  res.locals[KEY] = identity;
}

/** The verified client of this request; undefined when pull authentication is off. */
export function pullClientOf(res: Response): ClientIdentity | undefined {
  const value: unknown = res.locals[KEY];
  return typeof value === 'object' && value !== null && typeof (value as ClientIdentity).subject === 'string' ? (value as ClientIdentity) : undefined;
}
