import assert from 'node:assert/strict';
import type { Response } from 'supertest';

export interface OciErrorEntry {
  readonly code: string;
  readonly message: string;
  readonly detail?: unknown;
}

/** Asserts the body is a single OCI error (distribution-spec "Error Codes") and returns it. */
export function ociError(res: Response): OciErrorEntry {
  assert.equal(res.headers['content-type'], 'application/json');
  const body = JSON.parse(res.text) as { errors: OciErrorEntry[] };
  assert.equal(body.errors.length, 1);
  return body.errors[0]!;
}
