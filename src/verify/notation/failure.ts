// Internal: each check throws a coded error (the sigstore-js `policy.ts` model); verify.ts is the one
// place that catches it and turns it into a finding, so nothing here escapes to callers.
import type { SignatureFailure } from '../types.ts';

export class NotationCheckError extends Error {
  readonly kind: SignatureFailure;

  constructor(kind: SignatureFailure, message: string) {
    super(message);
    this.name = 'NotationCheckError';
    this.kind = kind;
  }
}

export function fail(kind: SignatureFailure, message: string): never {
  throw new NotationCheckError(kind, message);
}

/** The check's value, or the failure it reported; other errors (bugs, hostile input) propagate. */
export type Attempt<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly kind: SignatureFailure; readonly message: string };

export function attempt<T>(check: () => T): Attempt<T> {
  try {
    return { ok: true, value: check() };
  } catch (err) {
    if (err instanceof NotationCheckError) return { ok: false, kind: err.kind, message: err.message };
    throw err;
  }
}
