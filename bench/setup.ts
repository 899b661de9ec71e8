// Everything the scenarios measure against: a throwaway registry (test kit) with
// one signed and one unsigned image, a key, a local sigstore (keyless), policy and
// trust store made for this run, trustgate built from this checkout and running as its own process in
// front of the registry with signature enforcement on, when a scenario needs it a second trustgate
// with the blob cache on, and nginx as a plain reverse proxy in front of the same registry. Every
// piece registers its own teardown.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildImage, freePort, push, REGISTRY_BIN, startRegistry } from '../test/kit/index.ts';
import { blobCacheLines } from './blob-cache.ts';
import { onCleanup } from './cleanup.ts';
import { KEYLESS_PREFIX } from './keyless.ts';
import { startNginx } from './nginx.ts';
import { findPid, pinned, pinRunning } from './pinning.ts';
import { collectOutput, stopProcess, waitForOk } from './processes.ts';
import type { PinPlan } from './pinning.ts';
import { makeSigner, signImage } from './signing.ts';
import type { BenchSigner } from './signing.ts';
import type { BenchEnv, BenchImage, LoadSettings } from './types.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const REPOSITORY = 'bench/app';
const UNSIGNED_REPOSITORY = 'bench/unsigned';
const TAG = 'v1';

export interface Setup {
  env: BenchEnv;
  /** undefined while trustgate runs; else why it stopped and its last output. */
  proxyExited(): string | undefined;
  /** The same for nginx. */
  nginxExited(): string | undefined;
  /** The same for the cached trustgate (undefined when it was not started). */
  cachedProxyExited(): string | undefined;
}

/** Per-scenario settings from the command line, passed through to BenchEnv. */
export interface ScenarioSettings {
  coldImages: number;
  bigBlobMib: number;
  blobStreams: number;
  herdPulls: number;
}

export interface RunningTrustgate {
  url: string;
  pid: number;
  /** undefined while it runs; else why it stopped and its last output. */
  exited(): string | undefined;
  /** Stops it (SIGTERM, then SIGKILL after 5 s) and drops its teardown step. */
  stop(): Promise<void>;
}

const say = (line: string): void => {
  process.stderr.write(`bench: ${line}\n`);
};

/** `npm run build`: compiles src/ into dist/, exactly as a release would. */
async function buildTrustgate(): Promise<void> {
  say('building trustgate (npm run build)');
  const child = spawn('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const output = collectOutput(child);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  if (code !== 0) throw new Error(`npm run build failed (exit ${code}):\n${output()}`);
}

/** An OCI manifest with two small layers, pushed with skopeo. */
async function pushImage(dir: string, registryHost: string, repository: string, seed: string): Promise<BenchImage> {
  const built = await buildImage(dir, { seed, tag: TAG, layers: 2, layerBytes: 4096 });
  const ref = `docker://${registryHost}/${repository}:${TAG}`;
  const pushed = await push(built.layoutDir, ref);
  if (pushed.code !== 0) throw new Error(`skopeo push to ${ref} failed (exit ${pushed.code}): ${pushed.stderr.trim()}`);
  return { repository, tag: TAG, digest: built.manifestDigest, mediaType: built.mediaType };
}

function configYaml(port: number, registryUrl: string, signer: BenchSigner, extra: readonly string[]): string {
  const host = new URL(registryUrl).host;
  return [
    'listen:',
    `  address: 127.0.0.1:${port}`,
    '  plainHttp: true',
    'log:',
    '  level: silent',
    'upstreams:',
    '  - name: local',
    `    url: ${registryUrl}`,
    '    default: true',
    `    repositories: ["${host}/bench/**", "${host}/${KEYLESS_PREFIX}/**"]`,
    'policy:',
    `  file: ${JSON.stringify(signer.policyFile)}`,
    'keys:',
    `  dir: ${JSON.stringify(signer.keysDir)}`,
    ...extra,
    '',
  ].join('\n');
}

/** The environment trustgate runs with: ours, minus anything that would override its config file or proxy its traffic. */
function trustgateEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (key.startsWith('TRUSTGATE_') || /^(https?|all|no)_proxy$/i.test(key)) continue;
    env[key] = value;
  }
  env['TRUSTGATE_LOG_LEVEL'] = 'silent';
  return env;
}

/**
 * Starts `node dist/main.js` in front of the registry, pinned to `cpu`. `name` names its config file
 * (`<name>.yaml`) and its teardown step; `extra` are more top-level config lines (e.g. a `redis:` section).
 */
export async function startTrustgate(
  workDir: string,
  registryUrl: string,
  signer: BenchSigner,
  cpu: string | undefined,
  name = 'trustgate',
  extra: readonly string[] = [],
): Promise<RunningTrustgate> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const configFile = join(workDir, `${name}.yaml`);
    await writeFile(configFile, configYaml(port, registryUrl, signer, extra));
    // BENCH_PROFILE_DIR=<dir>: every trustgate process writes a V8 CPU profile there when it stops (bench/README.md, "Profiling").
    const profileDir = process.env['BENCH_PROFILE_DIR'];
    const profile = profileDir === undefined || profileDir === '' ? [] : ['--cpu-prof', `--cpu-prof-dir=${profileDir}`];
    const [bin, args] = pinned(cpu, process.execPath, [...profile, join(ROOT, 'dist', 'main.js'), '--config', configFile]);
    const child = spawn(bin, args, { cwd: ROOT, env: trustgateEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    const output = collectOutput(child);
    let exit: string | undefined;
    child.once('exit', (code, signal) => {
      exit = `${name} exited (${code ?? signal})`;
    });
    child.once('error', (error) => {
      exit = `${name} could not start: ${error.message}`;
    });
    const unregister = onCleanup(name, () => stopProcess(child));
    const url = `http://127.0.0.1:${port}`;
    try {
      await waitForOk(name, `${url}/v2/`, child, output);
      return {
        url,
        pid: child.pid!,
        exited: () => (exit === undefined ? undefined : `${exit}:\n${output()}`),
        stop: async () => {
          await stopProcess(child);
          unregister();
        },
      };
    } catch (error) {
      await stopProcess(child);
      unregister();
      if (attempt >= 3 || !/EADDRINUSE|address already in use/i.test(String(error))) throw error;
    }
  }
}

/** `withCache`: also start the second trustgate, `trustgate-cached` (blob cache on), for the -cached scenarios. */
export async function setUp(pins: PinPlan, load: LoadSettings, settings: ScenarioSettings, withCache: boolean): Promise<Setup> {
  for (const bin of [REGISTRY_BIN, '/usr/bin/skopeo']) {
    if (!existsSync(bin)) throw new Error(`${bin} is missing: run \`bash scripts/ensure-packages.sh\` (npm test runs it too)`);
  }
  const workDir = await mkdtemp(join(tmpdir(), 'trustgate-bench-'));
  onCleanup('temp dir', () => rm(workDir, { recursive: true, force: true }));

  say('starting the registry (test kit)');
  const registry = await startRegistry();
  onCleanup('registry', () => registry.stop());
  const registryPid = await findPid(join(registry.dir, 'config.yml'));
  if (pins.registry !== undefined) await pinRunning(registryPid, pins.registry);

  say('generating an ECDSA P-256 key and a local sigstore, the policy (rules "bench" and "keyless") and the trust store');
  const signer = await makeSigner(workDir, registry.host);

  say(`pushing and signing ${REPOSITORY}:${TAG}; pushing ${UNSIGNED_REPOSITORY}:${TAG} unsigned`);
  const image = await pushImage(join(workDir, 'image'), registry.host, REPOSITORY, 'trustgate-bench');
  await signImage(signer, registry.url, registry.host, REPOSITORY, image.digest);
  const unsignedImage = await pushImage(join(workDir, 'unsigned'), registry.host, UNSIGNED_REPOSITORY, 'trustgate-bench-unsigned');

  await buildTrustgate();
  say('starting trustgate');
  const proxy = await startTrustgate(workDir, registry.url, signer, pins.server);
  let cached: RunningTrustgate | undefined;
  const cacheDir = join(workDir, 'blob-cache');
  if (withCache) {
    say(`starting trustgate-cached (the same config plus blobCache.enabled: true, directory ${cacheDir})`);
    await mkdir(cacheDir, { recursive: true });
    cached = await startTrustgate(workDir, registry.url, signer, pins.server, 'trustgate-cached', blobCacheLines(cacheDir));
  }
  say('starting nginx (streaming reverse proxy, one worker per CPU, keepalive 64 to the registry)');
  const nginx = await startNginx(workDir, registry.host, pins.server);

  return {
    env: {
      registryUrl: registry.url,
      registryHost: registry.host,
      registryPid,
      proxyUrl: proxy.url,
      proxyPid: proxy.pid,
      cachedProxy: cached === undefined ? undefined : { url: cached.url, pid: cached.pid, cacheDir },
      nginxUrl: nginx.url,
      nginxPid: nginx.pid,
      image,
      unsignedImage,
      signer,
      ...settings,
      serverCpu: pins.server,
      workDir,
      load,
    },
    proxyExited: proxy.exited,
    nginxExited: nginx.exited,
    cachedProxyExited: () => cached?.exited(),
  };
}
