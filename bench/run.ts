// `npm run bench -- [options]`: sets up registry + trustgate (signature
// enforcement on), checks that a signed image is served and an unsigned one
// refused, checks every selected scenario answers 200 on both targets (which
// caches the verdicts: the load scenarios measure the warm path), runs the scenarios
// interleaved (direct then trustgate, every scenario once per round), prints
// the report and tears everything down, also on Ctrl-C or an error.
import { writeFile } from 'node:fs/promises';
import { selectScenarios } from './catalog.ts';
import { cleanupAll, cleanupOnSignals, stoppedBy } from './cleanup.ts';
import { checkEnforcement } from './enforcement.ts';
import { ensureTools, packageVersion } from './load.ts';
import { parseOptions, USAGE } from './options.ts';
import { pinRunning, planPinning } from './pinning.ts';
import { formatReport, summarize } from './report.ts';
import type { RunInfo, ScenarioSummary } from './report.ts';
import { setUp } from './setup.ts';
import type { ScenarioResult } from './types.ts';

const say = (line: string): void => { process.stderr.write(`bench: ${line}\n`); };

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  if (options === undefined) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const scenarios = selectScenarios(options.only);
  cleanupOnSignals();

  const tools = [...new Set(scenarios.flatMap((s) => s.tools))];
  await ensureTools(tools);
  const pins = await planPinning();
  say(pins.note);
  const setup = await setUp(pins, { durationSec: options.durationSec, connections: options.connections, cpu: pins.load }, options.coldImages);
  const { env } = setup;
  // From here on this process only sends requests (cold-verification times them itself): it belongs with the load generators.
  if (pins.load !== undefined) await pinRunning(process.pid, pins.load);
  const assertProxyAlive = (): void => {
    const exited = setup.proxyExited();
    if (exited !== undefined) throw new Error(exited);
  };

  try {
    const denial = await checkEnforcement(env);
    say(`enforcement on: ${env.image.repository}:${env.image.tag} (signed) answers 200 via trustgate; ` +
      `${env.unsignedImage.repository}:${env.unsignedImage.tag} (unsigned) answers 403: ${denial}`);
    for (const scenario of scenarios) await scenario.check(env);
  } catch (error) {
    throw new Error(`pre-check failed, nothing measured: ${error instanceof Error ? error.message : String(error)}`);
  }
  say(`checked: ${scenarios.map((s) => s.name).join(', ')} answer 200 directly and via trustgate`);

  if (options.warmupSec > 0) {
    say(`warming up (${options.warmupSec} s per target)`);
    for (const scenario of scenarios) await scenario.warmUp?.(env, options.warmupSec);
    assertProxyAlive();
  }

  const results = new Map<string, ScenarioResult[]>(scenarios.map((s) => [s.name, []]));
  for (let round = 1; round <= options.rounds; round++) {
    for (const scenario of scenarios) {
      say(`round ${round}/${options.rounds}: ${scenario.name}`);
      results.get(scenario.name)!.push(await scenario.run(env));
      assertProxyAlive();
    }
  }

  const summaries: ScenarioSummary[] = scenarios.map((s) => summarize(s.name, s.measures, results.get(s.name)!));
  const info: RunInfo = {
    durationSec: options.durationSec,
    connections: options.connections,
    rounds: options.rounds,
    warmupSec: options.warmupSec,
    coldImages: options.coldImages,
    pinning: pins.note,
    tools: [...(await Promise.all([...tools, 'docker-registry'].map(packageVersion))), `node ${process.version}`].join(', '),
  };
  process.stdout.write(`\n${formatReport(info, summaries)}\n`);
  if (options.jsonFile !== undefined) {
    await writeFile(options.jsonFile, `${JSON.stringify({ info, scenarios: summaries }, null, 2)}\n`);
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
