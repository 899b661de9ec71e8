// Everything the scenarios measure against: a throwaway registry (test kit) with
// one signed and one unsigned image, a key, policy and trust store made for this
// run, and trustgate built from this checkout and running as its own process in
// front of the registry with signature enforcement on. Every piece registers its
// own teardown.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildImage, freePort, push, REGISTRY_BIN, startRegistry } from '../test/kit/index.ts';
import { onCleanup } from './cleanup.ts';
import { findPid, pinned, pinRunning } from './pinning.ts';
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
}

const say = (line: string): void => { process.stderr.write(`bench: ${line}\n`); };

function collectOutput(child: ChildProcess): () => string {
  let output = '';
  const keep = (chunk: Buffer): void => { output = (output + chunk.toString()).slice(-16_384); };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return () => output.trim();
}

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

function configYaml(port: number, registryUrl: string, signer: BenchSigner): string {
  const host = new URL(registryUrl).host;
  return [
    'listen:', `  address: 127.0.0.1:${port}`, '  plainHttp: true',
    'log:', '  level: silent',
    'upstreams:', '  - name: local', `    url: ${registryUrl}`, '    default: true', `    repositories: ["${host}/bench/**"]`,
    'policy:', `  file: ${JSON.stringify(signer.policyFile)}`,
    'keys:', `  dir: ${JSON.stringify(signer.keysDir)}`,
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

async function waitForPing(url: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 20_000;
  let last = '';
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`trustgate exited (${child.exitCode ?? child.signalCode}) before answering ${url}/v2/:\n${output()}`);
    }
    try {
      const res = await fetch(`${url}/v2/`, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.status === 200) return;
      last = `status ${res.status}`;
    } catch (error) {
      last = String(error);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`trustgate at ${url} did not answer 200 on /v2/ within 20 s (last: ${last}):\n${output()}`);
}

function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => { clearTimeout(timer); resolve(); });
    child.kill('SIGTERM');
  });
}

async function startTrustgate(workDir: string, registryUrl: string, signer: BenchSigner, cpu: string | undefined): Promise<{ url: string; exited: () => string | undefined }> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const configFile = join(workDir, 'trustgate.yaml');
    await writeFile(configFile, configYaml(port, registryUrl, signer));
    const [bin, args] = pinned(cpu, process.execPath, [join(ROOT, 'dist', 'main.js'), '--config', configFile]);
    const child = spawn(bin, args, { cwd: ROOT, env: trustgateEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    const output = collectOutput(child);
    let exit: string | undefined;
    child.once('exit', (code, signal) => { exit = `trustgate exited (${code ?? signal})`; });
    child.once('error', (error) => { exit = `trustgate could not start: ${error.message}`; });
    const unregister = onCleanup('trustgate', () => stopProcess(child));
    const url = `http://127.0.0.1:${port}`;
    try {
      await waitForPing(url, child, output);
      return { url, exited: () => (exit === undefined ? undefined : `${exit}:\n${output()}`) };
    } catch (error) {
      await stopProcess(child);
      unregister();
      if (attempt >= 3 || !/EADDRINUSE|address already in use/i.test(String(error))) throw error;
    }
  }
}

export async function setUp(pins: PinPlan, load: LoadSettings, coldImages: number): Promise<Setup> {
  for (const bin of [REGISTRY_BIN, '/usr/bin/skopeo']) {
    if (!existsSync(bin)) throw new Error(`${bin} is missing: run \`bash scripts/ensure-packages.sh\` (npm test runs it too)`);
  }
  const workDir = await mkdtemp(join(tmpdir(), 'trustgate-bench-'));
  onCleanup('temp dir', () => rm(workDir, { recursive: true, force: true }));

  say('starting the registry (test kit)');
  const registry = await startRegistry();
  onCleanup('registry', () => registry.stop());
  if (pins.server !== undefined) await pinRunning(await findPid(join(registry.dir, 'config.yml')), pins.server);

  say('generating an ECDSA P-256 key, the policy (rule "bench") and the trust store');
  const signer = await makeSigner(workDir, registry.host);

  say(`pushing and signing ${REPOSITORY}:${TAG}; pushing ${UNSIGNED_REPOSITORY}:${TAG} unsigned`);
  const image = await pushImage(join(workDir, 'image'), registry.host, REPOSITORY, 'trustgate-bench');
  await signImage(signer, registry.url, registry.host, REPOSITORY, image.digest);
  const unsignedImage = await pushImage(join(workDir, 'unsigned'), registry.host, UNSIGNED_REPOSITORY, 'trustgate-bench-unsigned');

  await buildTrustgate();
  say('starting trustgate');
  const proxy = await startTrustgate(workDir, registry.url, signer, pins.server);

  return {
    env: { registryUrl: registry.url, registryHost: registry.host, proxyUrl: proxy.url, image, unsignedImage, signer, coldImages, workDir, load },
    proxyExited: proxy.exited,
  };
}
