// trustgate with the admin API (a test JWKS and bootstrap tokens from a temp data dir), pull auth
// (for robots) and Redis under a unique prefix, plus the same config as a file for `token mint`.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { offlineUpstream } from '../support/admin-app.ts';
import { adminTokens, type AdminTokens } from '../support/admin-tokens.ts';
import { writeSigningKey } from '../support/pull-auth.ts';
import { startProxy, type RunningProxy } from '../support/proxy-server.ts';
import { deleteRedisKeys, REDIS_URL, testPrefix } from '../support/redis-keys.ts';
import { runCli, type CliRun } from '../tools/cli-run.ts';

export interface AdminProxy {
  readonly proxy: RunningProxy;
  readonly work: string;
  readonly dataDir: string;
  /** The config as a file: what `token mint --config` reads. */
  readonly configFile: string;
  /** Tokens from the configured JWKS (not bootstrap ones). */
  readonly jwks: AdminTokens;
  /** `trustgate <args>` against this proxy, with TRUSTGATE_API set and the token given, if any. */
  cli(args: readonly string[], token?: string): Promise<CliRun>;
  /** `trustgate token mint` with this config; the token. */
  mint(subject: string, roles: string, more?: readonly string[]): Promise<string>;
  close(): Promise<void>;
}

export interface AdminProxyOptions {
  /** The upstreams YAML (default: one that is never called). */
  readonly upstreams?: string;
  readonly policy?: string;
}

export async function startAdminProxy(label: string, options: AdminProxyOptions = {}): Promise<AdminProxy> {
  const prefix = testPrefix(label);
  const work = mkdtempSync(join(tmpdir(), `tg-${label}-`));
  const dataDir = join(work, 'bootstrap');
  const jwks = await adminTokens(work);
  const base =
    options.upstreams === undefined
      ? offlineUpstream(REDIS_URL, prefix)
      : `listen: { plainHttp: true }\nredis: { url: "${REDIS_URL}", prefix: "${prefix}" }\n${options.upstreams}`;
  const yaml = `${base}admin: { jwks: { file: "${join(work, 'jwks.json')}" }, issuer: "https://issuer.test", audience: "trustgate", bootstrap: { dataDir: "${dataDir}" } }
pullAuth: { signingKey: { file: "${writeSigningKey(work)}" } }
`;
  const configFile = join(work, 'trustgate.yaml');
  writeFileSync(configFile, yaml);
  const proxy = await startProxy(yaml, { redisPrefix: prefix, ...(options.policy === undefined ? {} : { policy: options.policy }) });
  const cli = (args: readonly string[], token?: string): Promise<CliRun> =>
    runCli(args, { TRUSTGATE_API: proxy.url, ...(token === undefined ? {} : { TRUSTGATE_TOKEN: token }) });
  return {
    proxy,
    work,
    dataDir,
    configFile,
    jwks,
    cli,
    async mint(subject, roles, more = []) {
      const run = await runCli(['token', 'mint', '--config', configFile, '--subject', subject, '--roles', roles, ...more]);
      if (run.code !== 0) throw new Error(`token mint: ${run.code}: ${run.stderr}`);
      return run.stdout.trim();
    },
    async close() {
      await proxy.close();
      await deleteRedisKeys(prefix);
      rmSync(work, { recursive: true, force: true });
    },
  };
}
