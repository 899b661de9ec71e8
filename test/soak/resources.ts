// Resident memory and open file descriptors of a process, from procfs (proc(5): /proc/<pid>/status
// VmRSS, /proc/<pid>/fd), and the "stays flat" test over a series of samples.
import { readdirSync, readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

export interface ResourceSample {
  /** ms since the soak started. */
  readonly atMs: number;
  readonly rssBytes: number;
  readonly fds: number;
  /**
   * V8 heap in use right after a forced full GC: the JS objects really retained, without GC timing
   * noise. Buffers are outside it (external memory, noisy with blobs in flight); RSS covers them.
   */
  readonly liveHeapBytes?: number;
}

export type Sampler = () => Omit<ResourceSample, 'atMs'>;

/** This process: what the CI test measures, with trustgate in-process. */
export const sampleSelf: Sampler = () => ({ rssBytes: process.memoryUsage().rss, fds: readdirSync('/proc/self/fd').length });

/**
 * This process, plus its live heap every `every`-th sample. A full GC takes a few hundred ms under
 * load, so not every second. `--expose-gc` is set at run time because the test command is fixed.
 */
export function sampleSelfWithGc(every = 3): Sampler {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  let count = 0;
  return () => {
    if (count++ % every !== 0) return sampleSelf();
    gc();
    return { ...sampleSelf(), liveHeapBytes: process.memoryUsage().heapUsed };
  };
}

/** Another process (trustgate as a child): its own RSS and descriptors only. */
export function sampleProcess(pid: number): Sampler {
  return () => {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = /^VmRSS:\s+(\d+) kB$/m.exec(status);
    if (kb === null) throw new Error(`no VmRSS in /proc/${pid}/status`);
    return { rssBytes: Number(kb[1]) * 1024, fds: readdirSync(`/proc/${pid}/fd`).length };
  };
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export interface Flatness {
  readonly firstMedian: number;
  readonly lastMedian: number;
  readonly growth: number;
  readonly allowed: number;
  readonly ok: boolean;
}

/**
 * Flat: the median of the last third of the samples is at most `allowed(firstMedian)` above the
 * median of the first third. Medians, so one GC pause or one burst of sockets does not decide it.
 */
export function flatness(values: readonly number[], allowed: (first: number) => number): Flatness {
  const third = Math.floor(values.length / 3);
  if (third < 2) return { firstMedian: NaN, lastMedian: NaN, growth: NaN, allowed: NaN, ok: false };
  const firstMedian = median(values.slice(0, third));
  const lastMedian = median(values.slice(values.length - third));
  const growth = lastMedian - firstMedian;
  const bound = allowed(firstMedian);
  return { firstMedian, lastMedian, growth, allowed: bound, ok: growth <= bound };
}
