import { ConfigError } from './config-error.ts';

/** Deeper than any real config or policy; parsing a 200,000-deep flow sequence takes seconds, synchronously. */
export const MAX_FLOW_DEPTH = 64;

/**
 * Refuses YAML whose flow collections (`[`, `{`) nest deeper than MAX_FLOW_DEPTH, before the parser
 * sees it. Brackets inside quoted strings count too: a real file never has 64 of them open.
 */
export function assertShallowYaml(text: string, source: string): void {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5b || c === 0x7b) {
      if (++depth > MAX_FLOW_DEPTH) throw new ConfigError(source, '', `not accepted: YAML nested more than ${MAX_FLOW_DEPTH} levels deep`);
    } else if ((c === 0x5d || c === 0x7d) && depth > 0) {
      depth--;
    }
  }
}
