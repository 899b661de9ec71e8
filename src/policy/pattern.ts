/**
 * Image patterns over canonical names (`<registry host>/<repository>`).
 * `*` matches within one path segment, `**` matches any number of whole segments (also none
 * when it stands between slashes). Everything else is literal.
 */
export interface ImagePattern {
  readonly source: string;
  readonly test: (canonicalName: string) => boolean;
  /** Literal characters; more literal text means a more specific pattern. */
  readonly literalLength: number;
  readonly wildcards: number;
}

const VALID = /^[a-zA-Z0-9.:_\-/*[\]]+$/;

export function compilePattern(source: string): ImagePattern {
  if (!VALID.test(source) || /\*{3,}/.test(source) || source.includes('//')) {
    throw new TypeError(`invalid image pattern "${source}"`);
  }
  let regex = '';
  let literalLength = 0;
  let wildcards = 0;
  for (let i = 0; i < source.length; i += 1) {
    const char = source[i]!;
    if (source.startsWith('/**/', i)) {
      regex += '(?:/[^/]+)*/';
      i += 3;
      wildcards += 1;
    } else if (source.startsWith('**', i)) {
      regex += '.*';
      i += 1;
      wildcards += 1;
    } else if (char === '*') {
      regex += '[^/]*';
      wildcards += 1;
    } else {
      regex += char.replace(/[.[\]\\^$+?(){}|-]/g, '\\$&');
      literalLength += 1;
    }
  }
  const compiled = new RegExp(`^${regex}$`);
  return Object.freeze({ source, test: (name: string) => compiled.test(name), literalLength, wildcards });
}

/** The first segment of a pattern, which names the registry host. */
export function patternHost(source: string): string {
  return source.split('/')[0] ?? '';
}
