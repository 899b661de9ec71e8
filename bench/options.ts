// Command-line options of `npm run bench -- [options]`.
import { parseArgs } from 'node:util';
import type { PinLayout } from './pinning.ts';

export interface BenchOptions {
  durationSec: number;
  connections: number;
  rounds: number;
  warmupSec: number;
  /** Fresh signed images per round for cold-verification. */
  coldImages: number;
  /** blob-1gib(-cached): the big blob's size in MiB, and how many times each target streams it per round. */
  bigBlobMib: number;
  blobStreams: number;
  /** thundering-herd: pulls sent at once. */
  herdPulls: number;
  /** Scenario names to run; undefined means all. */
  only: string[] | undefined;
  /** --pinning: where the registry runs relative to the proxies (bench/pinning.ts). */
  pinning: PinLayout;
  jsonFile: string | undefined;
}

/** With 3 rounds, a full run takes about 6 minutes on a quiet 2-CPU machine, 9 on a busy one (bench/README.md). */
export const DEFAULT_DURATION_SEC = 6;

export const USAGE = `usage: npm run bench -- [options]
  --duration <s>          seconds per load measurement (default ${DEFAULT_DURATION_SEC})
  --connections <n>       open connections per load measurement (default 16)
  --rounds <n>            rounds; each round measures every scenario direct, via nginx, via trustgate (default 3)
  --warmup <s>            seconds of untimed load on each target before round 1 (default 1, 0 to skip)
  --cold-images <n>       cold-verification(-keyless, -keyless-bundle): fresh signed images pulled once each, per round (default 40)
  --big-blob-mib <n>      blob-1gib, blob-1gib-cached: size of the big blob in MiB (default 1024)
  --blob-streams <n>      blob-1gib, blob-1gib-cached: streams of the big blob per target per round (default 2)
  --herd <n>              thundering-herd: pulls sent at once (default 1000)
  --pinning <layout>      shared: registry and proxy on one CPU (default); split: the registry on a CPU of its own;
                          unpinned: nothing pinned, wrk on 2 threads
  --only <name,...>       run only these scenarios (e.g. cold-verification,cold-verification-keyless,cold-verification-keyless-bundle)
  --json <file>           also write the results as JSON
  --help                  show this`;

function positiveInt(name: string, raw: string | undefined, fallback: number, min = 1): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) throw new Error(`--${name} must be an integer >= ${min}, got "${raw}"`);
  return value;
}

function pinLayout(raw: string | undefined): PinLayout {
  if (raw === undefined || raw === 'shared' || raw === 'split' || raw === 'unpinned') return raw ?? 'shared';
  throw new Error(`--pinning must be "shared", "split" or "unpinned", got "${raw}"`);
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
      'big-blob-mib': { type: 'string' },
      'blob-streams': { type: 'string' },
      herd: { type: 'string' },
      only: { type: 'string' },
      pinning: { type: 'string' },
      json: { type: 'string' },
      help: { type: 'boolean' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) return undefined;
  const only = values.only
    ?.split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  return {
    durationSec: positiveInt('duration', values.duration, DEFAULT_DURATION_SEC),
    connections: positiveInt('connections', values.connections, 16),
    rounds: positiveInt('rounds', values.rounds, 3),
    warmupSec: positiveInt('warmup', values.warmup, 1, 0),
    coldImages: positiveInt('cold-images', values['cold-images'], 40),
    bigBlobMib: positiveInt('big-blob-mib', values['big-blob-mib'], 1024),
    blobStreams: positiveInt('blob-streams', values['blob-streams'], 2),
    herdPulls: positiveInt('herd', values.herd, 1000, 2),
    only: only === undefined || only.length === 0 ? undefined : only,
    jsonFile: values.json,
    pinning: pinLayout(values.pinning),
  };
}
