import express, { type Request, type RequestHandler, type Response } from 'express';
import { TrustgateError } from '../errors/errors.ts';
import { KEY_ID } from '../trust/key-id.ts';
import { holdsPrivateKeyMaterial } from '../audit/private-key-material.ts';
import { refusePrivateKeyInBody } from './private-key-input.ts';

const MAX_BYTES = 65_536;
const parser = express.raw({ type: () => true, limit: MAX_BYTES });

/**
 * Reads a JSON body after the guard (so an unauthenticated caller never makes trustgate read one).
 * Parsed here rather than by express.json, whose errors carry the raw body into the error log. A
 * body with a private key anywhere in it is refused whole, so no field can smuggle one into the
 * store, the logs or the audit log; the refusal names the field, never the value
 * (private-key-input.ts). Only a well-formed `id` is kept, as the audit target (`note`).
 */
export async function readJsonBody(req: Request, res: Response, note?: { target?: string }): Promise<Record<string, unknown>> {
  await readRawBody(parser, req, res, MAX_BYTES);
  const raw: unknown = req.body;
  const text = Buffer.isBuffer(raw) ? raw.toString('utf8') : '';
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = undefined;
  }
  const body = value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  const id = body?.['id'];
  // So even a refusal is filed under the key id.
  if (note !== undefined && typeof id === 'string' && KEY_ID.test(id) && !holdsPrivateKeyMaterial(id)) note.target = id;
  refusePrivateKeyInBody(text, value);
  if (body === undefined) throw new TrustgateError('BAD_REQUEST', 'the body must be a JSON object');
  return body;
}

/** Runs an express.raw parser (into req.body) as a promise: a body over `maxBytes` is 413 BODY_TOO_LARGE, never buffered past it. */
export function readRawBody(raw: RequestHandler, req: Request, res: Response, maxBytes: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    raw(req, res, (error?: unknown) => (error === undefined ? resolve() : reject(bodyError(error, maxBytes))));
  });
}

function bodyError(error: unknown, maxBytes: number): TrustgateError {
  const type = (error as { type?: unknown }).type;
  if (type === 'entity.too.large') return new TrustgateError('BODY_TOO_LARGE', `the body is larger than ${maxBytes} bytes`);
  return new TrustgateError('BAD_REQUEST', 'the body could not be read');
}
