// RFC 4514 §2.4 / RFC 2253 §2.4 escaped distinguished-name text, shared by node's subject strings
// (subject-name.ts) and trust-policy identities (identity.ts). Text is read as tokens so that an
// escaped separator or an escaped edge space is never mistaken for syntax.

export interface Token {
  /** UTF-8 bytes this token stands for. */
  readonly bytes: readonly number[];
  /** The character, when it is a plain (unescaped) one; undefined for escapes. */
  readonly plain?: string;
}

/** `\X` is the character X; `\HH` is one byte (runs decode as UTF-8). */
export function tokenize(text: string, onError: (message: string) => void = () => {}): Token[] {
  const tokens: Token[] = [];
  const utf8 = (s: string): number[] => [...Buffer.from(s, 'utf8')];
  for (let i = 0; i < text.length;) {
    const ch = String.fromCodePoint(text.codePointAt(i)!);
    i += ch.length;
    if (ch !== '\\') {
      tokens.push({ bytes: utf8(ch), plain: ch });
      continue;
    }
    const hex = text.slice(i, i + 2);
    if (/^[0-9A-Fa-f]{2}$/.test(hex)) {
      tokens.push({ bytes: [parseInt(hex, 16)] });
      i += 2;
    } else if (i < text.length) {
      const next = String.fromCodePoint(text.codePointAt(i)!);
      tokens.push({ bytes: utf8(next) });
      i += next.length;
    } else {
      onError('ends with a lone backslash');
      tokens.push({ bytes: utf8('\\') });
    }
  }
  return tokens;
}

export function split(tokens: readonly Token[], separators: string): Token[][] {
  const parts: Token[][] = [[]];
  for (const t of tokens) {
    if (t.plain !== undefined && separators.includes(t.plain)) parts.push([]);
    else parts[parts.length - 1]!.push(t);
  }
  return parts;
}

/** Splits at the first plain `=`; undefined when there is none. */
export function splitAttribute(tokens: readonly Token[]): { type: string; value: Token[] } | undefined {
  const eq = tokens.findIndex((t) => t.plain === '=');
  if (eq < 0) return undefined;
  return { type: decode(trim(tokens.slice(0, eq))).trim(), value: trim(tokens.slice(eq + 1)) };
}

/** Drops unescaped spaces at both ends (an escaped `\ ` stays). */
export function trim(tokens: readonly Token[]): Token[] {
  let start = 0;
  let end = tokens.length;
  while (start < end && tokens[start]!.plain === ' ') start++;
  while (end > start && tokens[end - 1]!.plain === ' ') end--;
  return tokens.slice(start, end);
}

export function decode(tokens: readonly Token[]): string {
  return Buffer.from(tokens.flatMap((t) => t.bytes)).toString('utf8');
}
