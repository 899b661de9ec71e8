// `npm run bench -- [options]`: sets up registry + nginx + trustgate (signature
// enforcement on; a second trustgate with the blob cache on when a -cached
// scenario is selected), checks that a signed image is served and an unsigned one
// refused, checks every selected scenario answers 200 on every target (which
// caches the verdicts: the load scenarios measure the warm path), runs the
// scenarios interleaved (direct, nginx, trustgate, every scenario once per
// round) while sampling the proxies' RSS and fds, prints the report with the
// targets and tears everything down, also on Ctrl-C or an error.
import { writeFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { selectScenarios } from './catalog.ts';
import { cleanupAll, cleanupOnSignals, onCleanup, stoppedBy } from './cleanup.ts';
import { checkEnforcement } from './enforcement.ts';
import { ensureTools, packageVersion } from './load.ts';
import type { BenchTool } from './load.ts';
import { parseOptions, USAGE } from './options.ts';
import { pinRunning, planPinning } from './pinning.ts';
import { formatReport } from './report.ts';
import type { RunInfo } from './report.ts';
import { startSampler } from './sampler.ts';
import { setUp } from './setup.ts';
import { summarize } from './summary.ts';
import { checkTargets } from './targets.ts';
import type { ScenarioResult } from './types.ts';

const started = performance.now();
const say = (line: string): void => {
  process.stderr.write(`bench: ${line}\n`);
};
const elapsed = (): string => `${Math.round((performance.now() - started) / 1000)} s`;

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  if (options === undefined) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const scenarios = selectScenarios(options.only);
  cleanupOnSignals();

  // nginx always runs: it is one of the three targets.
  const tools: BenchTool[] = [...new Set<BenchTool>([...scenarios.flatMap((s) => s.tools), 'nginx'])];
  await ensureTools(tools);
  const pins = await planPinning(options.pinning);
  say(pins.note);
  const setup = await setUp(
    pins,
    { durationSec: options.durationSec, connections: options.connections, cpu: pins.load, wrkThreads: pins.layout === 'unpinned' ? 2 : 1 },
    {
      coldImages: options.coldImages,
      bigBlobMib: options.bigBlobMib,
      blobStreams: options.blobStreams,
      herdPulls: options.herdPulls,
    },
    scenarios.some((s) => s.cachedTrustgate === true),
  );
  const { env } = setup;
  // From here on this process only sends requests (cold-verification, blob-1gib(-cached), cold-start and the herd time them itself): it belongs with the load generators.
  if (pins.load !== undefined) await pinRunning(process.pid, pins.load);
  const assertServersAlive = (): void => {
    const exited = setup.proxyExited() ?? setup.cachedProxyExited() ?? setup.nginxExited();
    if (exited !== undefined) throw new Error(exited);
  };
  const sampler = startSampler({
    trustgate: env.proxyPid,
    ...(env.cachedProxy === undefined ? {} : { 'trustgate-cached': env.cachedProxy.pid }),
    nginx: env.nginxPid,
  });
  onCleanup('sampler', () => sampler.stop());

  await sampler.phase('pre-check');
  try {
    const denial = await checkEnforcement(env);
    say(
      `enforcement on: ${env.image.repository}:${env.image.tag} (signed) answers 200 via trustgate; ` +
        `${env.unsignedImage.repository}:${env.unsignedImage.tag} (unsigned) answers 403: ${denial}`,
    );
    for (const scenario of scenarios) {
      say(`[${elapsed()}] checking ${scenario.name}`);
      await scenario.check(env);
    }
  } catch (error) {
    throw new Error(`pre-check failed, nothing measured: ${error instanceof Error ? error.message : String(error)}`);
  }
  say(`[${elapsed()}] checked: ${scenarios.map((s) => s.name).join(', ')} answer 200 on every target`);

  if (options.warmupSec > 0) {
    await sampler.phase('warm-up');
    say(`[${elapsed()}] warming up (${options.warmupSec} s per target)`);
    for (const scenario of scenarios) await scenario.warmUp?.(env, options.warmupSec);
    assertServersAlive();
  }

  const results = new Map<string, ScenarioResult[]>(scenarios.map((s) => [s.name, []]));
  for (let round = 1; round <= options.rounds; round++) {
    for (const scenario of scenarios) {
      say(`[${elapsed()}] round ${round}/${options.rounds}: ${scenario.name}`);
      await sampler.phase(scenario.name);
      results.get(scenario.name)!.push(await scenario.run(env));
      assertServersAlive();
    }
  }
  const memory = await sampler.stop();

  const summaries = scenarios.map((s) => summarize(s.name, s.measures, results.get(s.name)!));
  const info: RunInfo = {
    durationSec: options.durationSec,
    connections: options.connections,
    rounds: options.rounds,
    warmupSec: options.warmupSec,
    coldImages: options.coldImages,
    bigBlobMib: options.bigBlobMib,
    blobStreams: options.blobStreams,
    herdPulls: options.herdPulls,
    pinning: pins.note,
    tools: [...(await Promise.all([...tools, 'docker-registry'].map(packageVersion))), `node ${process.version}`].join(', '),
    wallSec: (performance.now() - started) / 1000,
  };
  const report = { info, scenarios: summaries, memory, targets: checkTargets(summaries) };
  process.stdout.write(`\n${formatReport(report)}\n`);
  if (options.jsonFile !== undefined) {
    await writeFile(options.jsonFile, `${JSON.stringify({ ...report, samples: sampler.samples() }, null, 2)}\n`);
    say(`results written to ${options.jsonFile}`);
  }
}

try {
  await main();
} catch (error) {
  process.exitCode = 1;
  // After Ctrl-C the load generator dies too; its failure is no news.
  if (stoppedBy() === undefined) say(`aborted: ${error instanceof Error ? error.message : String(error)}`);
} finally {
  await cleanupAll();
}
