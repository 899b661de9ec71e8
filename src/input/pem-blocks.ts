// PEM blocks (RFC 7468 §2) found in one linear pass. A lazy regular expression over text with many
// BEGIN lines and no END retries from each BEGIN to the end of the text: quadratic, and the text is
// often a registry's (a cosign annotation), so it is read this way instead.

export interface PemBlock {
  /** `CERTIFICATE`, `PUBLIC KEY`, … */
  readonly label: string;
  /** The base64 between the lines, whitespace removed. */
  readonly base64: string;
  /** The whole block, BEGIN line to END line. */
  readonly text: string;
}

const BEGIN = '-----BEGIN ';
const DASHES = '-----';

/** The blocks whose label is one of `labels`, in order; anything between or around them is ignored. */
export function pemBlocks(text: string, labels: readonly string[]): PemBlock[] {
  const blocks: PemBlock[] = [];
  const noEndAfter = new Map<string, number>(); // a label whose END marker is absent from this position on
  for (let at = text.indexOf(BEGIN); at !== -1;) {
    const labelStart = at + BEGIN.length;
    const labelEnd = text.indexOf(DASHES, labelStart);
    if (labelEnd === -1) break;
    const label = text.slice(labelStart, labelEnd);
    const next = labelEnd + DASHES.length;
    if (!labels.includes(label) || (noEndAfter.get(label) ?? Infinity) <= next) {
      at = text.indexOf(BEGIN, next);
      continue;
    }
    const endMarker = `-----END ${label}${DASHES}`;
    const end = text.indexOf(endMarker, next);
    if (end === -1) {
      noEndAfter.set(label, next);
      at = text.indexOf(BEGIN, next);
      continue;
    }
    blocks.push({ label, base64: text.slice(next, end).replace(/\s+/g, ''), text: text.slice(at, end + endMarker.length) });
    at = text.indexOf(BEGIN, end + endMarker.length);
  }
  return blocks;
}
