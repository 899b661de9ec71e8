// The shape every fuzz target has, and the one runner both the CI tests (test/fuzz/*.test.ts) and
// the long run (scripts/fuzz-long.ts) use: a target opens (keys, PKI, servers), hands out named
// fast-check properties, and closes.
import fc from 'fast-check';

export interface FuzzProperty {
  readonly name: string;
  /** Share of the target's run count this property gets (expensive ones, e.g. over HTTP, take less). */
  readonly weight?: number;
  // fast-check properties of any argument tuple, sync or async.
  readonly property: fc.IRawProperty<any>;
}

export interface FuzzSession {
  readonly properties: readonly FuzzProperty[];
  close?(): Promise<void>;
}

export interface FuzzTarget {
  readonly name: string;
  open(): Promise<FuzzSession>;
}

export interface PropertyResult {
  readonly target: string;
  readonly property: string;
  readonly runs: number;
  readonly failed: boolean;
  /** fast-check's report (counterexample, seed, path) when the property failed. */
  readonly report: string | undefined;
  readonly seconds: number;
  /** CPU time of this process meanwhile (user + system): the wall time without other load. */
  readonly cpuSeconds: number;
}

export interface RunOptions {
  readonly runs: number;
  readonly seed: number;
  /** Multiplies every property's runs (the long run uses it so each target totals at least `runs`). */
  readonly scale?: number;
}

/** Runs in CI: `FUZZ_RUNS` (default 200) cases per property at weight 1, with a fixed seed unless `FUZZ_SEED` is set. */
export const CI_RUNS = Number(process.env['FUZZ_RUNS'] ?? 200);
export const CI_SEED = Number(process.env['FUZZ_SEED'] ?? 20_240_607);

export function runsFor(property: FuzzProperty, runs: number, scale = 1): number {
  return Math.max(1, Math.round(runs * (property.weight ?? 1) * scale));
}

/** The scale at which a target's properties add up to at least `runs` cases. */
export function targetScale(properties: readonly FuzzProperty[]): number {
  const total = properties.reduce((sum, p) => sum + (p.weight ?? 1), 0);
  return total > 0 && total < 1 ? 1 / total : 1;
}

export async function runProperty(target: string, property: FuzzProperty, options: RunOptions): Promise<PropertyResult> {
  const runs = runsFor(property, options.runs, options.scale);
  const started = performance.now();
  const cpu = process.cpuUsage();
  const details = await fc.check(property.property, { numRuns: runs, seed: options.seed, endOnFailure: false });
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  return {
    target,
    property: property.name,
    runs: details.numRuns,
    failed: details.failed,
    report: details.failed ? reportOf(details) : undefined,
    seconds,
    cpuSeconds: (used.user + used.system) / 1e6,
  };
}

/** fast-check's report plus the error the property threw (v4 keeps it apart, as `errorInstance`). */
function reportOf(details: fc.RunDetails<unknown>): string {
  const error = details.errorInstance;
  const cause =
    error instanceof Error
      ? (error.stack ?? `${error.name}: ${error.message}`)
      : error === null || error === undefined
        ? ''
        : String(error);
  return `${fc.defaultReportMessage(details) ?? 'failed'}\n${cause}`.slice(0, 20_000);
}

/** Opens the target, runs every property (or those whose name contains `only`), closes it. */
export async function runTarget(target: FuzzTarget, options: RunOptions, only?: string): Promise<PropertyResult[]> {
  const session = await target.open();
  try {
    const results: PropertyResult[] = [];
    for (const property of session.properties) {
      if (only !== undefined && !property.name.includes(only)) continue;
      results.push(await runProperty(target.name, property, options));
    }
    return results;
  } finally {
    await session.close?.();
  }
}

/**
 * Hostile YAML (collection keys, unknown tags) makes the yaml library warn through
 * process.emitWarning on every parse; thousands of runs would bury the report. Those warnings
 * are counted instead of printed; every other warning is printed as node would.
 */
export function quietYamlWarnings(): { readonly count: () => number } {
  let count = 0;
  process.removeAllListeners('warning');
  process.on('warning', (warning) => {
    if (warning.name === 'YAMLWarning' || warning.message.startsWith('Keys with collection values will be stringified')) count += 1;
    else process.stderr.write(`${warning.name}: ${warning.message}\n`);
  });
  return { count: () => count };
}
