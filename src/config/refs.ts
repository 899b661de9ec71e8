// What `parseConfig` leaves unread: secrets and files the config names. `readReferences`
// (references.ts) reads them; each carries the field that errors name.
import { resolve } from 'node:path';

/** A secret named by the config: an environment variable, or a file (absolute; `written` as in the config). */
export type SecretRef =
  { readonly field: string; readonly env: string } | { readonly field: string; readonly file: string; readonly written: string };

/** A file named by the config (upstream TLS material): absolute path, and the path as written. */
export interface FileRef {
  readonly field: string;
  readonly file: string;
  readonly written: string;
}

/** `{ env }` or `{ file }` at `field` (schema-checked: exactly one) as a reference naming `field.env` or `field.file`. */
export function secretRef(ref: { env?: string | undefined; file?: string | undefined }, field: string, baseDir: string): SecretRef {
  return ref.env !== undefined
    ? { field: `${field}.env`, env: ref.env }
    : { field: `${field}.file`, file: resolve(baseDir, ref.file!), written: ref.file! };
}
