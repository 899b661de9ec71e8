// `npm run soak -- [--minutes 10] [--concurrency 500] [--cold-per-second 5] [--tsx]`: the long soak
// (issue #7, item 5). The same engine as the CI test (test/soak/soak-engine.ts), but trustgate runs
// as its own process (`node dist/main.js` after `npm run build`; `--tsx` runs src/main.ts through
// tsx instead), so the RSS and descriptors sampled from /proc/<pid> are trustgate's alone. Prints
// the summary on stdout, progress on stderr, and exits 1 when any check fails.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { freePort } from '../test/kit/index.ts';
import { runtimeFiles } from '../test/support/runtime-files.ts';
import { runSoak } from '../test/soak/soak-engine.ts';
import { setUpSoak, type SoakFixture } from '../test/soak/soak-fixture.ts';
import { formatReport } from '../test/soak/soak-format.ts';
import { sampleProcess } from '../test/soak/resources.ts';
import { LONG_BOUNDS } from '../test/soak/soak-settings.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const say = (line: string): void => void process.stderr.write(`soak: ${line}\n`);

const USAGE = `npm run soak -- [options]
  --minutes <n>          measured minutes (default 10)
  --concurrency <n>      requests in flight (default 500)
  --cold-per-second <n>  fresh signed images pushed per second for cold pulls (default 5)
  --warmup-max <s>       longest warm-up before measuring (default 60)
  --tsx                  run src/main.ts with tsx instead of building dist/`;

function options() {
  const { values } = parseArgs({
    options: {
      minutes: { type: 'string', default: '10' },
      concurrency: { type: 'string', default: '500' },
      'cold-per-second': { type: 'string', default: '5' },
      'warmup-max': { type: 'string', default: '60' },
      tsx: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  const number = (name: string, value: string): number => {
    const n = Number(value);
    if (!(n > 0) || !Number.isFinite(n)) throw new Error(`--${name} must be a positive number, got ${value}\n${USAGE}`);
    return n;
  };
  return {
    help: values.help,
    minutes: number('minutes', values.minutes),
    concurrency: Math.round(number('concurrency', values.concurrency)),
    coldPerSecond: number('cold-per-second', values['cold-per-second']),
    warmupMaxS: number('warmup-max', values['warmup-max']),
    tsx: values.tsx,
  };
}

async function run(command: string, args: string[]): Promise<void> {
  const child = spawn(command, args, { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  if (code !== 0) throw new Error(`${command} ${args.join(' ')} exited ${code}`);
}

interface Trustgate {
  readonly url: string;
  readonly pid: number;
  /** Why it stopped, if it did. */
  exited(): string | undefined;
  stop(): Promise<void>;
}

async function startTrustgate(fixture: SoakFixture, tsx: boolean, workDir: string): Promise<Trustgate> {
  const files = runtimeFiles(fixture.policy, fixture.keys);
  const port = await freePort();
  const config = join(workDir, 'trustgate.yaml');
  await writeFile(
    config,
    `listen: { address: 127.0.0.1:${port}, plainHttp: true }\nlog: { level: silent }\n${fixture.configYaml}${files.configLines}`,
  );
  const entry = tsx ? ['--import', 'tsx', join(ROOT, 'src', 'main.ts')] : [join(ROOT, 'dist', 'main.js')];
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env))
    if (!key.startsWith('TRUSTGATE_') && !/^(https?|all|no)_proxy$/i.test(key)) env[key] = value;
  const child: ChildProcess = spawn(process.execPath, [...entry, '--config', config], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => void (stderr = (stderr + chunk.toString()).slice(-8192)));
  let exit: string | undefined;
  child.once('exit', (code, signal) => void (exit = `trustgate exited (${code ?? signal}): ${stderr.trim()}`));
  const url = `http://127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await gone;
      clearTimeout(timer);
    }
    files.remove();
  };
  for (const deadline = Date.now() + 30_000; ;) {
    if (exit !== undefined) throw new Error(exit);
    try {
      const res = await fetch(`${url}/v2/`, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`trustgate did not answer 200 on ${url}/v2/ within 30 s: ${stderr.trim()}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { url, pid: child.pid!, exited: () => exit, stop };
}

async function main(): Promise<number> {
  const o = options();
  if (o.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (!o.tsx) {
    say('building trustgate (npm run build)');
    await run('npm', ['run', '--silent', 'build']);
  }
  const workDir = await mkdtemp(join(tmpdir(), 'tg-soak-long-'));
  say(`starting the registry, pushing a signed image (1 MiB layer), an unsigned one and ${Math.ceil(o.coldPerSecond * 10)} cold images`);
  const fixture = await setUpSoak({ coldPerSecond: o.coldPerSecond, coldReserve: Math.ceil(o.coldPerSecond * 10) });
  let trustgate: Trustgate | undefined;
  const teardown = async (): Promise<void> => {
    await trustgate?.stop();
    await fixture.close();
    await rm(workDir, { recursive: true, force: true });
  };
  const onSignal = (): void => void teardown().finally(() => process.exit(130));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    trustgate = await startTrustgate(fixture, o.tsx, workDir);
    say(
      `trustgate pid ${trustgate.pid} at ${trustgate.url} (${o.tsx ? 'tsx src/main.ts' : 'node dist/main.js'}), registry ${fixture.registry.url}`,
    );
    const report = await runSoak({
      proxyUrl: trustgate.url,
      fixture,
      concurrency: o.concurrency,
      durationMs: Math.round(o.minutes * 60_000),
      warmup: { minMs: 15_000, maxMs: o.warmupMaxS * 1000, settleS: 20 },
      sample: sampleProcess(trustgate.pid),
      bounds: LONG_BOUNDS,
      log: say,
    });
    process.stdout.write(`${formatReport(report)}\n`);
    const exited = trustgate.exited();
    if (exited !== undefined) {
      process.stdout.write(`FAIL trustgate did not stay up: ${exited}\n`);
      return 1;
    }
    process.stdout.write(`trustgate stayed up (pid ${trustgate.pid})\n`);
    return report.ok ? 0 : 1;
  } finally {
    await teardown();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`soak: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
