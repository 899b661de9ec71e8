// The real app over the real runtime with the admin API on, a recording logger, and tokens minted
// at test time: for app-level tests of admin routes with supertest.
import type { RequestListener } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from '../../src/runtime/app.ts';
import { loadConfigText } from '../../src/config/index.ts';
import { buildRuntime, type Runtime } from '../../src/runtime/runtime.ts';
import { recordingLogger } from './helpers.ts';
import { adminTokens, type AdminTokens } from './admin-tokens.ts';
import type { HarnessOptions } from './app-harness.ts';
import { OPEN_POLICY, runtimeFiles, type RuntimeFiles } from './runtime-files.ts';

export interface AdminApp {
  readonly app: RequestListener;
  readonly runtime: Runtime;
  readonly files: RuntimeFiles;
  readonly tokens: AdminTokens;
  readonly logs: ReturnType<typeof recordingLogger>;
  /** `Bearer <token>` for a subject with these roles. */
  bearer(subject: string, roles: readonly string[]): Promise<string>;
  close(): Promise<void>;
}

export interface AdminAppOptions extends HarnessOptions {
  /** Share issuers between replicas: pass the first app's tokens. */
  readonly tokens?: AdminTokens;
}

/** `yaml` is the config without its admin section (added here). */
export async function adminApp(yaml: string, options: AdminAppOptions = {}): Promise<AdminApp> {
  const dir = mkdtempSync(join(tmpdir(), 'tg-admin-'));
  const tokens = options.tokens ?? (await adminTokens(dir));
  const files = runtimeFiles(options.policy ?? OPEN_POLICY, options.keys ?? []);
  const config = loadConfigText(`${yaml}\n${tokens.configYaml}${files.configLines}`, 'test.yaml', { env: options.env ?? {} });
  const logs = recordingLogger();
  const runtime = await buildRuntime(config, logs, options);
  return {
    app: createApp(runtime.deps),
    runtime,
    files,
    tokens,
    logs,
    bearer: async (subject, roles) => `Bearer ${await tokens.mint(subject, roles)}`,
    async close() {
      await runtime.close();
      files.remove();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Config for an app whose upstream is never called (admin routes only). */
export function offlineUpstream(redisUrl?: string, prefix?: string): string {
  const redis = redisUrl === undefined ? '' : `redis: { url: "${redisUrl}"${prefix === undefined ? '' : `, prefix: "${prefix}"`} }\n`;
  return `listen: { plainHttp: true }\n${redis}upstreams:\n  - { name: up, url: "http://127.0.0.1:9", default: true, repositories: ["127.0.0.1:9/**"] }\n`;
}
