// The reference scanner end to end: a real registry, trustgate with Redis and the admin API, a
// policy that requires scans, and a fake trivy that prints the recorded real Trivy report.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { loadConfig, type Config } from '../../src/config/index.ts';
import type { Logger } from '../../src/log/logger.ts';
import { runScanWorker, type ScanWorkerOptions } from '../../src/scanner/worker.ts';
import { buildImage, inspect, push, startRegistry, type RunningRegistry, cosignSignImage } from '../kit/index.ts';
import { adminTokens, type AdminTokens } from '../support/admin-tokens.ts';
import { startProxy, type RunningProxy } from '../support/proxy-server.ts';
import { runCli } from '../tools/cli-run.ts';
import { fakeTrivy, type FakeBehavior } from './fake-trivy.ts';
import { recordedReport } from './recorded-report.ts';

const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const prefix = `{tg-worker-${randomUUID().slice(0, 8)}}:`;
const work = mkdtempSync(join(tmpdir(), 'tg-scan-worker-'));
const signer = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const STREAM = `${prefix}scan-requests`;
const pem = (key: KeyObject): string => key.export({ type: 'spki', format: 'pem' }).toString();

let registry: RunningRegistry;
let proxy: RunningProxy;
let tokens: AdminTokens;
let token: string;
let configFile: string;
let config: Config;
let redis: Redis;
const digests: Record<string, string> = {};

const policy = (host: string) => `version: 1
rules:
  - name: scanned
    images: ["${host}/app/**"]
    scan: { required: true, maxSeverity: HIGH, maxAge: 7d }
`;

async function signedImage(repo: string): Promise<void> {
  const image = await buildImage(join(work, repo.replace('/', '-')), { seed: `worker-${repo}` });
  digests[repo] = image.manifestDigest;
  assert.equal((await push(image.layoutDir, `docker://${registry.host}/${repo}:v1`)).code, 0);
  await cosignSignImage(registry.url, repo, image.manifestDigest, `${registry.host}/${repo}`, signer.privateKey);
}

const pull = (repo: string) => inspect(`docker://${proxy.host}/${repo}:v1`, { raw: true });
async function deniedUnscanned(repo: string): Promise<void> {
  const denied = await pull(repo);
  assert.notEqual(denied.code, 0);
  assert.match(denied.stderr, /no vulnerability scan on record/);
}
/** `<upstream host>/<repo>`, the name trivy reports for an image it pulled from the upstream. */
const upstreamName = (repo: string): string => `${registry.host}/${repo}`;
const pendingCount = async (): Promise<number> => Number(((await redis.xpending(STREAM, 'scanners')) as [number])[0]);

function collectingLogger(): Logger & { records: Array<Record<string, unknown>> } {
  const records: Array<Record<string, unknown>> = [];
  const log = (level: string) => (record: object, msg?: string) => void records.push({ level, msg, ...record });
  return { records, debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}

function worker(behavior: FakeBehavior, options: Partial<ScanWorkerOptions> = {}) {
  const logger = collectingLogger();
  const trivy = fakeTrivy(work, behavior);
  const run = runScanWorker({
    redisUrl: REDIS_URL,
    prefix,
    upstreams: config.upstreams,
    api: proxy.url,
    token: () => token,
    trivy: trivy.path,
    searchPath: undefined,
    trivyEnv: { PATH: process.env['PATH'] },
    timeoutMs: 5_000,
    reclaimIdleMs: 400,
    blockMs: 200,
    once: true,
    logger,
    ...options,
  });
  return { run, trivy, logger };
}

before(async () => {
  registry = await startRegistry();
  tokens = await adminTokens(work);
  token = await tokens.mint('scan-bot', ['scanner']);
  for (const repo of ['app/svc', 'app/retry', 'app/wrong', 'app/term']) await signedImage(repo);
  const yaml = `listen: { plainHttp: true }\nredis: { url: "${REDIS_URL}", prefix: "${prefix}" }\n${tokens.configYaml}upstreams:\n  - { name: local, url: "${registry.url}", default: true, repositories: ["${registry.host}/**"] }\n`;
  proxy = await startProxy(yaml, {
    policy: policy(registry.host),
    keys: [{ id: 'release', pem: pem(signer.publicKey), scopes: [`${registry.host}/**`] }],
  });
  configFile = join(work, 'trustgate.yaml');
  writeFileSync(configFile, `${yaml}${proxy.files.configLines}`);
  config = loadConfig(configFile);
  writeFileSync(join(work, 'token'), `${token}\n`);
  redis = new Redis(REDIS_URL);
});

after(async () => {
  await proxy?.close();
  await registry?.stop();
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
  rmSync(work, { recursive: true, force: true });
});

describe('trustgate scan-worker', () => {
  it('an unscanned image › denied and queued; `scan-worker --once` scans it on the upstream and posts; then pulled', async () => {
    await deniedUnscanned('app/svc');
    const trivy = fakeTrivy(work, { report: recordedReport(upstreamName('app/svc'), digests['app/svc']!) });
    const run = await runCli(
      [
        'scan-worker',
        '--once',
        '--config',
        configFile,
        '--api',
        proxy.url,
        '--token-file',
        join(work, 'token'),
        '--trivy',
        trivy.path,
        '--consumer',
        'cli-worker',
      ],
      { TRIVY_USERNAME: 'scan-bot', TRUSTGATE_SCANNER_TOKEN: 'env-token-never-for-trivy', TRUSTGATE_LOG_LEVEL: 'info' },
    );
    assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
    assert.deepEqual(trivy.calls(), [
      ['image', '--format', 'json', '--quiet', '--insecure', `${registry.host}/app/svc@${digests['app/svc']}`],
    ]);
    assert.ok(
      !trivy
        .calls()
        .flat()
        .some((arg) => arg.includes(proxy.host)),
      'scanned on the upstream, not through trustgate',
    );
    assert.deepEqual(trivy.envs(), ['token=unset user=scan-bot'], 'trivy gets its own credentials and never the scanner token');
    assert.match(run.stdout, /"event":"scan_posted"/);
    assert.ok(!run.stdout.includes(token) && !run.stderr.includes(token), 'the token is never logged');

    const allowed = await pull('app/svc');
    assert.equal(allowed.code, 0, allowed.stderr);
    const record = await fetch(`${proxy.url}/admin/v1/scans/${digests['app/svc']}`, { headers: { authorization: `Bearer ${token}` } });
    const body = (await record.json()) as { scanner: string; counts: Record<string, number> };
    assert.equal(body.scanner, 'trivy dev');
    assert.equal(body.counts['MEDIUM'], 4, 'the recorded findings, under maxSeverity HIGH');
    assert.equal(await pendingCount(), 0, 'acknowledged');
  });

  it('trivy missing › exit 1 saying so, before touching Redis', async () => {
    const deadRedis = join(work, 'dead-redis.yaml');
    writeFileSync(
      deadRedis,
      `listen: { plainHttp: true }\nredis: { url: "redis://127.0.0.1:1" }\nupstreams:\n  - { name: local, url: "${registry.url}", repositories: ["${registry.host}/**"] }\n`,
    );
    const args = ['scan-worker', '--config', deadRedis, '--api', proxy.url];
    const env = { TRUSTGATE_SCANNER_TOKEN: token, PATH: mkdtempSync(join(work, 'empty-path-')) };
    const started = Date.now();
    const [onPath, given] = await Promise.all([runCli(args, env), runCli([...args, '--trivy', join(work, 'nowhere', 'trivy')], env)]);
    assert.equal(onPath.code, 1);
    assert.equal(
      onPath.stderr,
      'trustgate scan-worker: trivy not found at "trivy": install it (https://aquasecurity.github.io/trivy) or pass --trivy <path>\n',
    );
    assert.equal(given.code, 1);
    assert.match(given.stderr, /trivy not found at ".*\/nowhere\/trivy": install it/);
    assert.ok(Date.now() - started < 8_000, 'no wait for the unreachable Redis');
  });

  it('trivy times out, then exits non-zero › not acknowledged; each time another worker reclaims it after reclaimIdleMs; the third posts', async () => {
    await deniedUnscanned('app/retry');
    const hung = worker({ hangSeconds: 30 }, { timeoutMs: 300, consumer: 'worker-a' });
    assert.deepEqual(await hung.run, { claimed: 1, posted: 0, refused: 0, failed: 1 });
    assert.match(String(hung.logger.records.find((r) => r['event'] === 'scan_failed')?.['problem']), /did not finish within 300 ms/);
    assert.equal(await pendingCount(), 1, 'still claimed, not acknowledged');

    await sleep(600);
    const failing = worker({ exitCode: 3, stderr: 'FATAL unable to initialize a scanner' }, { consumer: 'worker-b' });
    assert.deepEqual(await failing.run, { claimed: 1, posted: 0, refused: 0, failed: 1 });
    assert.equal(failing.trivy.calls().length, 1, 'reclaimed from worker-a');
    assert.match(
      String(failing.logger.records.find((r) => r['event'] === 'scan_failed')?.['problem']),
      /trivy exited 3: FATAL unable to initialize a scanner/,
    );
    const claims = (await redis.xpending(STREAM, 'scanners', '-', '+', 10)) as Array<[string, string]>;
    assert.deepEqual(
      claims.map(([, owner]) => owner),
      ['worker-b'],
    );

    await sleep(600);
    const good = worker({ report: recordedReport(upstreamName('app/retry'), digests['app/retry']!) }, { consumer: 'worker-c' });
    assert.deepEqual(await good.run, { claimed: 1, posted: 1, refused: 0, failed: 0 });
    assert.equal(await pendingCount(), 0);
    assert.equal((await pull('app/retry')).code, 0);
    const logged = JSON.stringify([hung, failing, good].flatMap((w) => w.logger.records));
    assert.ok(!logged.includes(token), 'the token is never logged');
  });

  it('a report the API refuses (4xx) › logged and acknowledged: it would not get better', async () => {
    await deniedUnscanned('app/wrong');
    const wrong = worker({ report: recordedReport(upstreamName('app/wrong'), digests['app/svc']!) });
    assert.deepEqual(await wrong.run, { claimed: 1, posted: 0, refused: 1, failed: 0 });
    const refused = wrong.logger.records.find((r) => r['event'] === 'scan_refused');
    assert.equal(refused?.['status'], 400);
    assert.match(String(refused?.['problem']), /answered 400: report refused: .*Metadata does not describe/);
    assert.equal(await pendingCount(), 0);
  });

  it('SIGTERM while a scan runs › the scan finishes and is posted, then the worker exits 0', async () => {
    await deniedUnscanned('app/term');
    const trivy = fakeTrivy(work, { report: recordedReport(upstreamName('app/term'), digests['app/term']!), delaySeconds: 1 });
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'src/cli.ts', 'scan-worker', '--config', configFile, '--api', proxy.url, '--trivy', trivy.path],
      {
        cwd: new URL('../..', import.meta.url),
        env: { ...process.env, TRUSTGATE_SCANNER_TOKEN: token },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    for (let i = 0; i < 200 && trivy.calls().length === 0; i += 1) await sleep(50);
    assert.equal(trivy.calls().length, 1, 'trivy started');
    child.kill('SIGTERM');
    assert.equal(await exited, 0, stdout);
    assert.match(stdout, /"event":"scan_posted"/);
    assert.match(stdout, /"event":"scan_worker_stopped".*"posted":1/);
    assert.equal(await pendingCount(), 0);
    assert.equal((await pull('app/term')).code, 0);
  });
});
