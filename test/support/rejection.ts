import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { TrustgateError } from '../../src/errors/errors.ts';

/** Awaits a promise that must reject with a TrustgateError, and returns that error. */
export async function rejection(promise: Promise<unknown>): Promise<TrustgateError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof TrustgateError, `expected a TrustgateError, got ${inspect(error)}`);
    return error;
  }
  assert.fail('expected the promise to reject');
}
