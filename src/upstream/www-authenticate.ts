/**
 * A parser for `WWW-Authenticate` (RFC 7235 §4.1, §2.1):
 *
 *   challenge  = auth-scheme [ 1*SP ( token68 / #auth-param ) ]
 *   auth-param = token BWS "=" BWS ( token / quoted-string )
 *
 * Several challenges may share one header, separated by commas. The parser is linear, never
 * throws, and drops what it cannot read: a malformed parameter is skipped up to the next comma,
 * a challenge whose scheme is not a token is dropped.
 */

export interface Challenge {
  /** Lower-cased, e.g. `bearer` or `basic`. */
  readonly scheme: string;
  /** Parameter names lower-cased; values unquoted. The object has no prototype. The first of duplicated names wins. */
  readonly params: Readonly<Record<string, string>>;
  /** The token68 form (`Negotiate abc==`), when used instead of parameters. */
  readonly token68?: string;
}

const TCHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;
const TOKEN68_CHAR = /[A-Za-z0-9\-._~+/]/;
const MAX_HEADER_LENGTH = 16 * 1024;
const MAX_CHALLENGES = 16;

function isControl(c: string): boolean {
  return c !== '\t' && (c < ' ' || c === '\x7f');
}

class Reader {
  pos = 0;
  constructor(readonly text: string) {}
  get done(): boolean {
    return this.pos >= this.text.length;
  }
  peek(offset = 0): string {
    return this.text.charAt(this.pos + offset);
  }
  skipSpaces(): void {
    while (this.peek() === ' ' || this.peek() === '\t') this.pos++;
  }
  /** Skips spaces and any number of commas (empty list elements are allowed by RFC 7230 §7). */
  skipSeparators(): void {
    while (this.peek() === ' ' || this.peek() === '\t' || this.peek() === ',') this.pos++;
  }
  token(): string {
    const start = this.pos;
    while (!this.done && TCHAR.test(this.peek())) this.pos++;
    return this.text.slice(start, this.pos);
  }
  /**
   * Reads a quoted string at `pos` (which is on the opening quote) up to its closing quote;
   * undefined if it never ends or holds control characters.
   */
  quoted(): string | undefined {
    let out = '';
    let valid = true;
    this.pos++;
    while (!this.done) {
      const c = this.peek();
      this.pos++;
      if (c === '"') return valid ? out : undefined;
      if (c === '\\') {
        if (this.done) return undefined;
        const escaped = this.peek();
        this.pos++;
        if (isControl(escaped)) valid = false;
        out += escaped;
        continue;
      }
      if (isControl(c)) valid = false;
      out += c;
    }
    return undefined;
  }
  /** Moves to the next top-level comma (outside quoted strings) or the end. */
  skipToComma(): void {
    while (!this.done && this.peek() !== ',') {
      if (this.peek() === '"') this.quoted();
      else this.pos++;
    }
  }
  /** True when the text at `pos` is `token BWS "="` but not a token68 ending in "=" before a comma or end. */
  atParam(): boolean {
    let i = this.pos;
    while (i < this.text.length && TCHAR.test(this.text.charAt(i))) i++;
    if (i === this.pos) return false;
    while (this.text.charAt(i) === ' ' || this.text.charAt(i) === '\t') i++;
    if (this.text.charAt(i) !== '=') return false;
    i++;
    while (this.text.charAt(i) === '=') i++;
    while (this.text.charAt(i) === ' ' || this.text.charAt(i) === '\t') i++;
    // `abc=` followed by a comma or the end is a token68 with padding, not `abc=<empty>`.
    return i < this.text.length && this.text.charAt(i) !== ',';
  }
  /** A token68 followed by optional spaces and then a comma or the end, or undefined (position unchanged). */
  token68(): string | undefined {
    let i = this.pos;
    while (i < this.text.length && TOKEN68_CHAR.test(this.text.charAt(i))) i++;
    if (i === this.pos) return undefined;
    while (this.text.charAt(i) === '=') i++;
    let j = i;
    while (this.text.charAt(j) === ' ' || this.text.charAt(j) === '\t') j++;
    if (j < this.text.length && this.text.charAt(j) !== ',') return undefined;
    const value = this.text.slice(this.pos, i);
    this.pos = j;
    return value;
  }
}

/** Reads one `name = value`; returns undefined (having skipped to the next comma) when malformed. */
function readParam(r: Reader): [string, string] | undefined {
  const name = r.token().toLowerCase();
  r.skipSpaces();
  if (name === '' || r.peek() !== '=') return void r.skipToComma();
  r.pos++;
  r.skipSpaces();
  const value = r.peek() === '"' ? r.quoted() : r.token();
  if (value === undefined) return void r.skipToComma();
  r.skipSpaces();
  if (!r.done && r.peek() !== ',') return void r.skipToComma();
  return [name, value];
}

export function parseChallenges(header: string): Challenge[] {
  const challenges: Challenge[] = [];
  const r = new Reader(header.length > MAX_HEADER_LENGTH ? '' : header);
  r.skipSeparators();
  while (!r.done && challenges.length < MAX_CHALLENGES) {
    const scheme = r.token().toLowerCase();
    if (scheme === '' || (!r.done && r.peek() !== ' ' && r.peek() !== '\t' && r.peek() !== ',')) {
      r.skipToComma();
      r.skipSeparators();
      continue;
    }
    r.skipSpaces();
    const params: Record<string, string> = Object.create(null) as Record<string, string>;
    let token68: string | undefined;
    if (!r.done && r.peek() !== ',' && !r.atParam()) token68 = r.token68();
    if (token68 === undefined) {
      // Parameters continue while the next list element looks like `name=`; otherwise a new challenge starts.
      while (!r.done && (r.peek() === ',' ? (r.skipSeparators(), r.atParam()) : true)) {
        const param = readParam(r);
        if (param !== undefined && !(param[0] in params)) params[param[0]] = param[1];
      }
    }
    challenges.push(token68 === undefined ? { scheme, params } : { scheme, params, token68 });
    r.skipSeparators();
  }
  return challenges;
}

/** The first challenge with this (lower-case) scheme. */
export function findChallenge(challenges: readonly Challenge[], scheme: string): Challenge | undefined {
  return challenges.find((c) => c.scheme === scheme);
}
