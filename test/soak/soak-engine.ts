// The soak, shared by the CI test (test/soak/soak.test.ts, 30 s, trustgate in-process) and the long
// run (bench/soak.ts, 10 min, trustgate as its own process): `concurrency` requests in flight at all
// times, drawn from the mix in soak-classes.ts, every answer checked; RSS and descriptors sampled
// every second; trustgate's counters scraped before the first request and after the last answer.
import { createHash } from 'node:crypto';
import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';
import { Pool } from 'undici';
import { ACCEPT, CLASS_NAMES, pickClass, planner, type Answer, type ClassName, type Planned } from './soak-classes.ts';
import { counterChecks, type Check } from './soak-counters.ts';
import type { SoakFixture } from './soak-fixture.ts';
import { flatness, type Flatness, type ResourceSample, type Sampler } from './resources.ts';
import { scrapeMetrics, type Scrape } from './metrics-scrape.ts';

export interface FlatBounds {
  /** RSS may grow by max(rssBytes, rssRatio × first third's median) from the first third to the last. */
  readonly rssBytes: number;
  readonly rssRatio: number;
  /** Open descriptors may grow by this many. */
  readonly fds: number;
  /** The live heap (samples that have it) may grow by this much. */
  readonly liveHeapBytes?: number;
}

export interface SoakOptions {
  readonly proxyUrl: string;
  readonly fixture: SoakFixture;
  readonly concurrency: number;
  /** The measured phase; the checks and counters cover it. */
  readonly durationMs: number;
  /**
   * Load before the measured phase, its answers checked too: at least `minMs`, then until RSS and
   * descriptors have set no new high for `settleS` seconds (the heap has grown to its working size,
   * the keep-alive pools are full), or `maxMs`. A leak never settles: it runs to `maxMs` and then
   * shows as growth.
   */
  readonly warmup: { readonly minMs: number; readonly maxMs: number; readonly settleS: number };
  readonly sample: Sampler;
  readonly bounds: FlatBounds;
  /** Progress lines. */
  readonly log?: (line: string) => void;
}

export interface ClassReport {
  readonly name: ClassName;
  readonly sent: number;
  readonly errors: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** The first few unexpected answers. */
  readonly examples: readonly string[];
}

export type { Check };

export interface SoakReport {
  readonly concurrency: number;
  readonly durationMs: number;
  /** How long the warm-up ran, and whether it settled before its maximum. */
  readonly warmupMs: number;
  readonly warmupSettled: boolean;
  /** Measured phase. */
  readonly classes: readonly ClassReport[];
  readonly sent: number;
  readonly errors: number;
  readonly warmup: { readonly sent: number; readonly errors: number; readonly examples: readonly string[] };
  /** Before any load, then once a second through warm-up and the measured phase. */
  readonly idle: ResourceSample;
  readonly samples: readonly ResourceSample[];
  /** The measured phase's samples only. */
  readonly measured: readonly ResourceSample[];
  readonly rss: Flatness;
  readonly fds: Flatness;
  readonly liveHeap: Flatness | undefined;
  readonly counters: readonly Check[];
  readonly checks: readonly Check[];
  readonly ok: boolean;
}

class Tally {
  readonly sent = new Map<ClassName, number>();
  readonly errors = new Map<ClassName, number>();
  readonly examples = new Map<ClassName, string[]>();
  readonly latency = new Map<ClassName, RecordableHistogram>();

  record(name: ClassName, ms: number, problem: string | undefined): void {
    this.sent.set(name, (this.sent.get(name) ?? 0) + 1);
    let histogram = this.latency.get(name);
    if (histogram === undefined) this.latency.set(name, (histogram = createHistogram()));
    histogram.record(Math.max(1, Math.round(ms * 1000))); // µs
    if (problem === undefined) return;
    this.errors.set(name, (this.errors.get(name) ?? 0) + 1);
    const examples = this.examples.get(name) ?? [];
    if (examples.length < 5) examples.push(problem);
    this.examples.set(name, examples);
  }

  total(map: Map<ClassName, number>): number {
    let sum = 0;
    for (const n of map.values()) sum += n;
    return sum;
  }

  report(): ClassReport[] {
    return CLASS_NAMES.map((name) => {
      const histogram = this.latency.get(name);
      return {
        name,
        sent: this.sent.get(name) ?? 0,
        errors: this.errors.get(name) ?? 0,
        p50Ms: histogram === undefined ? NaN : histogram.percentile(50) / 1000,
        p99Ms: histogram === undefined ? NaN : histogram.percentile(99) / 1000,
        examples: this.examples.get(name) ?? [],
      };
    });
  }
}

async function send(pool: Pool, planned: Planned): Promise<string | undefined> {
  let answer: Answer;
  try {
    // reset: false keeps the connection after a HEAD, as containerd does (undici closes it by default).
    const res = await pool.request({ method: planned.method, path: planned.path, headers: { accept: ACCEPT }, reset: false });
    if (res.statusCode === 200 && planned.method === 'GET') {
      const hash = createHash('sha256');
      let length = 0;
      for await (const chunk of res.body as AsyncIterable<Buffer>) {
        hash.update(chunk);
        length += chunk.length;
      }
      answer = {
        status: res.statusCode,
        headers: res.headers,
        bodyDigest: `sha256:${hash.digest('hex')}`,
        bodyLength: length,
        bodyText: undefined,
      };
    } else {
      const text = await res.body.text();
      answer = { status: res.statusCode, headers: res.headers, bodyDigest: undefined, bodyLength: Buffer.byteLength(text), bodyText: text };
    }
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    return `${planned.method} ${planned.path}: request failed: ${typeof code === 'string' ? `${code} ` : ''}${error instanceof Error ? error.message : String(error)}`;
  }
  const problem = planned.check(answer);
  return problem === undefined ? undefined : `${planned.method} ${planned.path}: ${problem}`;
}

/**
 * `concurrency` loops, each sending its next request when the last one is answered, until `done()`.
 * Each answer goes to the tally of the phase its request started in.
 */
async function load(
  pool: Pool,
  plan: (name: ClassName) => Planned,
  concurrency: number,
  done: () => boolean,
  tallyNow: () => Tally,
): Promise<void> {
  const loop = async (): Promise<void> => {
    while (!done()) {
      const tally = tallyNow();
      const planned = plan(pickClass());
      const started = performance.now();
      const problem = await send(pool, planned);
      tally.record(planned.name, performance.now() - started, problem);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
}

/**
 * `concurrency` simultaneous pings: the pool opens a connection for each, and each is answered only
 * once trustgate has accepted it. Otherwise the connections opened under load are accepted a few at
 * a time on a busy machine, and descriptors creep up through the warm-up and beyond.
 */
async function openConnections(pool: Pool, concurrency: number): Promise<void> {
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      const res = await pool.request({ method: 'GET', path: '/v2/' });
      await res.body.text();
      if (res.statusCode !== 200) throw new Error(`GET /v2/ answered ${res.statusCode}`);
    }),
  );
}

/** Settled: over the last `window` samples (one a second), no RSS more than 2 MB and no descriptor count more than 2 above every earlier sample. */
function settled(samples: readonly ResourceSample[], window: number): boolean {
  if (samples.length <= window) return false;
  const earlier = samples.slice(0, -window);
  const recent = samples.slice(-window);
  const high = (values: number[]): number => Math.max(...values);
  return (
    high(recent.map((s) => s.rssBytes)) <= high(earlier.map((s) => s.rssBytes)) + 2 * 1_048_576 &&
    high(recent.map((s) => s.fds)) <= high(earlier.map((s) => s.fds)) + 2
  );
}

/**
 * One continuous run: /metrics scraped with nothing in flight, one request of each fixed class (the
 * signed and unsigned verdicts, the blob records), the warm-up, then the measured phase without a
 * pause (a pause would let keep-alive connections time out and refill during the measurement),
 * then /metrics again once every loop has its last answer. The counters cover the whole run.
 */
export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const { fixture, concurrency, durationMs, bounds } = options;
  const log = options.log ?? (() => {});
  const t0 = performance.now();
  const sampleNow = (): ResourceSample => ({ atMs: Math.round(performance.now() - t0), ...options.sample() });
  const idle = sampleNow();
  const samples: ResourceSample[] = [];
  const measured: ResourceSample[] = [];
  const warm = new Tally();
  const tally = new Tally();
  let warmFrom = Infinity;
  let measuredFrom = Infinity;
  let warmupSettled = false;
  const measuring = (): boolean => performance.now() >= measuredFrom;
  let sampling: string | undefined;
  const timer = setInterval(() => {
    let s: ResourceSample;
    try {
      s = sampleNow();
    } catch (error) {
      // The process is gone (or /proc unreadable): stop the load, and fail the run.
      sampling ??= error instanceof Error ? error.message : String(error);
      return;
    }
    samples.push(s);
    const now = performance.now();
    if (measuredFrom === Infinity && now - warmFrom >= options.warmup.minMs) {
      warmupSettled = settled(
        samples.filter((x) => x.atMs >= warmFrom - t0),
        options.warmup.settleS,
      );
      if (warmupSettled || now - warmFrom >= options.warmup.maxMs) {
        measuredFrom = now;
        log(
          `measuring: ${concurrency} in flight for ${durationMs / 1000} s (warm-up ${warmupSettled ? 'settled' : 'did not settle'} after ${Math.round((now - warmFrom) / 1000)} s)`,
        );
        return;
      }
    }
    // Only while the load runs: the last answers' tail is not the steady state.
    if (now > measuredFrom && now <= measuredFrom + durationMs) measured.push(s);
  }, 1000);

  // Connections enough for every loop: each holds one, so `concurrency` requests are in flight.
  const pool = new Pool(options.proxyUrl, {
    connections: concurrency,
    pipelining: 1,
    headersTimeout: 60_000,
    bodyTimeout: 60_000,
    keepAliveTimeout: 60_000,
  });
  const { plan } = planner(fixture, () => fixture.cold.take());
  let before: Scrape | undefined;
  let after: Scrape | undefined;
  let runFrom = 0;
  let runMs = 0;
  try {
    runFrom = performance.now();
    before = await scrapeMetrics(options.proxyUrl);
    for (const name of CLASS_NAMES) {
      if (name === 'cold GET') continue;
      const started = performance.now();
      const problem = await send(pool, plan(name));
      warm.record(name, performance.now() - started, problem);
    }
    await openConnections(pool, concurrency);
    fixture.cold.start();
    log(
      `warm-up: ${concurrency} in flight for ${options.warmup.minMs / 1000}–${options.warmup.maxMs / 1000} s, until RSS and descriptors settle`,
    );
    warmFrom = performance.now();
    const progress = setInterval(
      () =>
        log(
          `  ${Math.round((performance.now() - warmFrom) / 1000)} s: ${warm.total(warm.sent) + tally.total(tally.sent)} requests, ${warm.total(warm.errors) + tally.total(tally.errors)} unexpected`,
        ),
      30_000,
    );
    try {
      await load(
        pool,
        plan,
        concurrency,
        () => sampling !== undefined || performance.now() >= measuredFrom + durationMs,
        () => (measuring() ? tally : warm),
      );
    } finally {
      clearInterval(progress);
    }
    // Every loop has had its answer: nothing is in flight while the counters are read.
    after = await scrapeMetrics(options.proxyUrl);
    runMs = performance.now() - runFrom;
  } finally {
    clearInterval(timer);
    await fixture.cold.stop();
    await pool.close();
  }
  if (before === undefined || after === undefined) throw new Error('soak: /metrics was not scraped');
  const warmupMs = Math.round(Math.min(measuredFrom, performance.now()) - warmFrom);
  return buildReport(options, {
    idle,
    samples,
    measured,
    warm,
    warmupMs,
    warmupSettled,
    tally,
    before,
    after,
    runMs,
    sampling,
    coldFailures: fixture.cold.failures,
    bounds,
  });
}

interface Collected {
  readonly idle: ResourceSample;
  readonly samples: ResourceSample[];
  readonly measured: ResourceSample[];
  readonly warm: Tally;
  readonly warmupMs: number;
  readonly warmupSettled: boolean;
  readonly tally: Tally;
  readonly before: Scrape;
  readonly after: Scrape;
  /** From the first scrape to the last. */
  readonly runMs: number;
  /** Why sampling stopped, if it did. */
  readonly sampling: string | undefined;
  readonly coldFailures: readonly string[];
  readonly bounds: FlatBounds;
}

const mb = (bytes: number): string => `${(bytes / 1_048_576).toFixed(1)} MB`;

function buildReport(options: SoakOptions, c: Collected): SoakReport {
  const classes = c.tally.report();
  const sent = c.tally.total(c.tally.sent);
  const errors = c.tally.total(c.tally.errors);
  const warmExamples = [...c.warm.examples.values()].flat();
  const warmup = { sent: c.warm.total(c.warm.sent), errors: c.warm.total(c.warm.errors), examples: warmExamples };
  const rss = flatness(
    c.measured.map((s) => s.rssBytes),
    (first) => Math.max(c.bounds.rssBytes, c.bounds.rssRatio * first),
  );
  const fds = flatness(
    c.measured.map((s) => s.fds),
    () => c.bounds.fds,
  );
  const heapSamples = c.measured.flatMap((s) => (s.liveHeapBytes === undefined ? [] : [s.liveHeapBytes]));
  const heapBound = c.bounds.liveHeapBytes;
  const liveHeap = heapBound === undefined || heapSamples.length === 0 ? undefined : flatness(heapSamples, () => heapBound);
  // The counters cover the whole run: warm-up (with the first pull of each fixed class) and measured.
  const whole = c.warm.report().map((k, i) => ({ name: k.name, sent: k.sent + classes[i]!.sent }));
  const counters = counterChecks(c.before, c.after, whole, c.runMs);
  const unexpected = classes.filter((k) => k.errors > 0).map((k) => `${k.name}: ${k.errors} (${k.examples.join(' | ')})`);
  const thin = whole.filter((k) => k.sent < 10).map((k) => `${k.name}: ${k.sent}`);
  const checks: Check[] = [
    {
      name: 'the measured phase ran to its end',
      ok: c.sampling === undefined && c.measured.length > 0,
      detail:
        c.sampling === undefined ? `${c.measured.length} samples over ${options.durationMs / 1000} s` : `stopped early: ${c.sampling}`,
    },
    {
      name: 'every answer is the expected one',
      ok: errors === 0 && warmup.errors === 0 && c.coldFailures.length === 0,
      detail:
        errors === 0 && warmup.errors === 0 && c.coldFailures.length === 0
          ? `${sent} measured + ${warmup.sent} warm-up requests, 0 unexpected`
          : [
              ...unexpected,
              ...(warmup.errors > 0 ? [`warm-up: ${warmup.errors} (${warmExamples.join(' | ')})`] : []),
              ...c.coldFailures.slice(0, 5),
            ].join('; '),
    },
    {
      name: 'every class was exercised (≥ 10 requests each)',
      ok: thin.length === 0,
      detail: thin.length === 0 ? whole.map((k) => `${k.name} ${k.sent}`).join(', ') : `too few: ${thin.join(', ')}`,
    },
    {
      name: 'RSS stays flat',
      ok: rss.ok,
      detail: `median of the first third ${mb(rss.firstMedian)}, of the last third ${mb(rss.lastMedian)}: ${rss.growth >= 0 ? '+' : ''}${mb(rss.growth)} (bound +${mb(rss.allowed)}) over ${c.measured.length} samples`,
    },
    {
      name: 'open file descriptors stay flat',
      ok: fds.ok,
      detail: `median of the first third ${fds.firstMedian}, of the last third ${fds.lastMedian}: ${fds.growth >= 0 ? '+' : ''}${fds.growth} (bound +${fds.allowed}) over ${c.measured.length} samples`,
    },
    ...(liveHeap === undefined
      ? []
      : [
          {
            name: 'live heap after GC stays flat',
            ok: liveHeap.ok,
            detail: `median of the first third ${mb(liveHeap.firstMedian)}, of the last third ${mb(liveHeap.lastMedian)}: ${liveHeap.growth >= 0 ? '+' : ''}${mb(liveHeap.growth)} (bound +${mb(liveHeap.allowed)}) over ${heapSamples.length} samples`,
          },
        ]),
    ...counters,
  ];
  return {
    concurrency: options.concurrency,
    durationMs: options.durationMs,
    warmupMs: c.warmupMs,
    warmupSettled: c.warmupSettled,
    classes,
    sent,
    errors,
    warmup,
    idle: c.idle,
    samples: c.samples,
    measured: c.measured,
    rss,
    fds,
    liveHeap,
    counters,
    checks,
    ok: checks.every((check) => check.ok),
  };
}
