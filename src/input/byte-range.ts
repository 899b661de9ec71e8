// An HTTP `Range` request header against a representation of known size (RFC 9110 §14.1.2 "Byte
// Ranges", §14.2 "Range"). Pure: the caller knows the size and sends the answer.

export type RangeAnswer =
  | { readonly kind: 'whole' }
  | { readonly kind: 'range'; readonly start: number; readonly end: number }
  | { readonly kind: 'unsatisfiable' };

const WHOLE: RangeAnswer = Object.freeze({ kind: 'whole' });
const UNSATISFIABLE: RangeAnswer = Object.freeze({ kind: 'unsatisfiable' });

/** Longer than any single range a client sends; past it the header is ignored rather than parsed. */
const MAX_HEADER_LENGTH = 256;

// RFC 9110 §14.1.2: int-range = first-pos "-" [ last-pos ]; suffix-range = "-" suffix-length; 1*DIGIT each.
const SINGLE_RANGE = /^bytes=(?:(\d+)-(\d*)|-(\d+))$/i;

/**
 * One byte range, or the whole representation. A header that is not one valid byte range (bad
 * syntax, another unit, several ranges) is ignored: RFC 9110 §14.2 lets a server ignore Range.
 * `end` is inclusive and clamped to `size - 1` (§14.1.2: a last-pos past the end means the end).
 */
export function parseRange(header: string | undefined, size: number): RangeAnswer {
  if (!Number.isSafeInteger(size) || size < 0) throw new TypeError(`parseRange: size must be a non-negative integer, got ${size}`);
  if (header === undefined || header.length > MAX_HEADER_LENGTH) return WHOLE;
  const match = SINGLE_RANGE.exec(header.trim());
  if (match === null) return WHOLE;
  const [, first, last, suffix] = match;
  if (suffix !== undefined) {
    const length = Number(suffix);
    // RFC 9110 §14.1.1: a suffix-range is satisfiable when suffix-length > 0.
    if (length === 0) return UNSATISFIABLE;
    // Nothing to range over in an empty representation: send it whole (an empty 200).
    if (size === 0) return WHOLE;
    return { kind: 'range', start: Math.max(0, size - length), end: size - 1 };
  }
  const start = Number(first);
  const end = last === '' ? Infinity : Number(last);
  // RFC 9110 §14.1.1: last-pos < first-pos makes the range-spec invalid, so the header is ignored.
  if (end < start) return WHOLE;
  // RFC 9110 §14.1.1: an int-range is satisfiable when first-pos < the representation's length.
  if (start >= size) return UNSATISFIABLE;
  return { kind: 'range', start, end: Math.min(end, size - 1) };
}

/** RFC 9110 §14.4 "Content-Range": the value for a 206 answer. */
export function contentRange(start: number, end: number, size: number): string {
  return `bytes ${start}-${end}/${size}`;
}

/** RFC 9110 §14.4 "Content-Range": the value for a 416 answer (unsatisfied-range). */
export function unsatisfiedRange(size: number): string {
  return `bytes */${size}`;
}
