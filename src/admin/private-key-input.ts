import type { Request } from 'express';
import { parseDocument } from 'yaml';
import { holdsPrivateKeyMaterial, privateKeyField } from '../audit/private-key-material.ts';
import { TrustgateError } from '../errors/errors.ts';

/*
 * No admin input may carry a private key, in any field or encoding (src/audit/private-key-material.ts):
 * a body field, a YAML field, a field name, a query parameter or a path segment. The refusal names
 * where it was and never holds the value, so neither the answer, the audit entry (which records
 * the message) nor a log line can carry it. Checked before any field is parsed, so no later
 * message that quotes a value (an unknown field, a bad pattern) can see it.
 */

export function privateKeyRefusal(where: string): TrustgateError {
  return new TrustgateError(
    'BAD_REQUEST',
    `${where} holds a private key; the admin API takes public keys and certificates only, and nothing was stored`,
  );
}

const fieldName = (field: string): string => (field === '' ? 'the body' : `"${field}"`);

/** A parsed JSON body (or undefined when it did not parse) and its text: 400 naming the first field holding a key. */
export function refusePrivateKeyInBody(text: string, parsed: unknown): void {
  const field = parsed === undefined ? undefined : privateKeyField(parsed);
  if (field !== undefined) throw privateKeyRefusal(fieldName(field));
  if (holdsPrivateKeyMaterial(text)) throw privateKeyRefusal('the body');
}

/** A YAML text (a policy): 400 naming the first field holding a key, else the text as a whole. */
export function refusePrivateKeyInYaml(text: string): void {
  let value: unknown;
  try {
    const doc = parseDocument(text, { prettyErrors: false });
    value = doc.errors.length === 0 ? doc.toJS() : undefined;
  } catch {
    value = undefined;
  }
  const field = value === undefined ? undefined : privateKeyField(value);
  if (field !== undefined) throw privateKeyRefusal(field === '' ? 'the policy text' : `policy field "${field}"`);
  if (holdsPrivateKeyMaterial(text)) throw privateKeyRefusal('the policy text');
}

/** The query and the path parameters, before a handler (or an audit entry's target) reads them. */
export function refusePrivateKeyInRequestLine(req: Request): void {
  const query = privateKeyField(req.query);
  if (query !== undefined) throw privateKeyRefusal(`query parameter "${query}"`);
  const param = privateKeyField(req.params);
  if (param !== undefined) throw privateKeyRefusal(`path parameter "${param}"`);
}
