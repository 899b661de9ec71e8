// Small helpers for reading untrusted JSON reports.
import { printable } from '../oci/reference.ts';

/** Plain-object check for parsed JSON (arrays and null are not objects here). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A JSON value for a message: strings quoted, bounded and printable (reports are untrusted input). */
export function describe(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = kindOf(value); // nested deeper than the stack: JSON.stringify throws a RangeError
  }
  return printable(text, 80);
}

export function kindOf(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;
}
