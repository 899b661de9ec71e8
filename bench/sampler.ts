// RSS and open fds of trustgate and nginx over the whole run: one sample a
// second, plus one at every phase change, each labelled with the phase (the
// scenario running, "pre-check", "warm-up"), summarised per phase as
// start/min/max/end.
import { procStats } from './proc-stats.ts';
import type { ProcStats } from './proc-stats.ts';

export interface Sample extends ProcStats {
  /** Seconds since the sampler started. */
  t: number;
  phase: string;
}

export interface Range {
  start: number;
  min: number;
  max: number;
  end: number;
}

export interface PhaseSeries {
  process: string;
  phase: string;
  samples: number;
  rssMb: Range;
  fds: Range;
}

export interface Sampler {
  /** Labels the samples from now on (and takes one sample at the boundary). */
  phase(name: string): Promise<void>;
  /** Stops sampling (after a last sample) and summarises: per process, per phase in order of first appearance, then "whole run". */
  stop(): Promise<PhaseSeries[]>;
  /** Every sample, per process, for --json. */
  samples(): Record<string, Sample[]>;
}

function range(values: readonly number[]): Range {
  return { start: values[0]!, min: Math.min(...values), max: Math.max(...values), end: values[values.length - 1]! };
}

function summarise(process: string, samples: readonly Sample[]): PhaseSeries[] {
  const phases = [...new Set(samples.map((s) => s.phase))];
  const series = (phase: string, of: readonly Sample[]): PhaseSeries => ({
    process,
    phase,
    samples: of.length,
    rssMb: range(of.map((s) => s.rssMb)),
    fds: range(of.map((s) => s.fds)),
  });
  const out = phases.map((phase) =>
    series(
      phase,
      samples.filter((s) => s.phase === phase),
    ),
  );
  if (samples.length > 0) out.push(series('whole run', samples));
  return out;
}

/** Starts sampling the named processes (pid of each tree's root) every intervalMs. */
export function startSampler(processes: Record<string, number>, intervalMs = 1000): Sampler {
  const started = performance.now();
  const kept: Record<string, Sample[]> = Object.fromEntries(Object.keys(processes).map((name) => [name, []]));
  let current = 'after set-up';
  let pending: Promise<void> = Promise.resolve();
  const sampleAll = (): Promise<void> => {
    const phase = current;
    pending = pending.then(async () => {
      const t = Math.round(performance.now() - started) / 1000;
      for (const [name, pid] of Object.entries(processes)) {
        const stats = await procStats(pid);
        if (stats !== undefined) kept[name]!.push({ t, phase, ...stats });
      }
    });
    return pending;
  };
  const timer = setInterval(() => void sampleAll(), intervalMs);
  void sampleAll();
  return {
    async phase(name) {
      await sampleAll();
      current = name;
      await sampleAll();
    },
    async stop() {
      clearInterval(timer);
      await sampleAll();
      return Object.entries(kept).flatMap(([name, samples]) => summarise(name, samples));
    },
    samples: () => kept,
  };
}
