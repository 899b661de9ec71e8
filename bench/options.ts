// Command-line options of `npm run bench -- [options]`.
import { parseArgs } from 'node:util';

export interface BenchOptions {
  durationSec: number;
  connections: number;
  rounds: number;
  warmupSec: number;
  /** Fresh signed images per round for cold-verification. */
  coldImages: number;
  /** Scenario names to run; undefined means all. */
  only: string[] | undefined;
  jsonFile: string | undefined;
}

export const USAGE = `usage: npm run bench -- [options]
  --duration <s>          seconds per measurement (default 5)
  --connections <n>       open connections per measurement (default 16)
  --rounds <n>            rounds; each round measures every scenario direct then via trustgate (default 3)
  --warmup <s>            seconds of untimed load on each target before round 1 (default 1, 0 to skip)
  --cold-images <n>       cold-verification: fresh signed images pulled once each, per round (default 40)
  --only <name,...>       run only these scenarios
  --json <file>           also write the results as JSON
  --help                  show this`;

function positiveInt(name: string, raw: string | undefined, fallback: number, min = 1): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) throw new Error(`--${name} must be an integer >= ${min}, got "${raw}"`);
  return value;
}

/** Parses argv; returns undefined when --help was asked for. Throws on bad input. */
export function parseOptions(argv: readonly string[]): BenchOptions | undefined {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      duration: { type: 'string' },
      connections: { type: 'string' },
      rounds: { type: 'string' },
      warmup: { type: 'string' },
      'cold-images': { type: 'string' },
      only: { type: 'string' },
      json: { type: 'string' },
      help: { type: 'boolean' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) return undefined;
  const only = values.only?.split(',').map((s) => s.trim()).filter((s) => s !== '');
  return {
    durationSec: positiveInt('duration', values.duration, 5),
    connections: positiveInt('connections', values.connections, 16),
    rounds: positiveInt('rounds', values.rounds, 3),
    warmupSec: positiveInt('warmup', values.warmup, 1, 0),
    coldImages: positiveInt('cold-images', values['cold-images'], 40),
    only: only === undefined || only.length === 0 ? undefined : only,
    jsonFile: values.json,
  };
}
