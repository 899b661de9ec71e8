import type { RequestListener } from 'node:http';
import { createApp } from '../../src/runtime/app.ts';
import { loadConfigText, type Config } from '../../src/config/index.ts';
import { noopLogger } from '../../src/log/logger.ts';
import { buildRuntime, type Runtime, type RuntimeOptions } from '../../src/runtime/runtime.ts';
import { OPEN_POLICY, runtimeFiles, type KeyFile, type RuntimeFiles } from './runtime-files.ts';

export interface Harness {
  readonly app: RequestListener;
  readonly config: Config;
  readonly runtime: Runtime;
  readonly files: RuntimeFiles;
  close(): Promise<void>;
}

export interface HarnessOptions extends RuntimeOptions {
  readonly env?: Record<string, string>;
  readonly policy?: string;
  readonly keys?: readonly KeyFile[];
}

/** The real app over the real runtime (upstream clients, gate, stores), configured from YAML text like a user would. */
export async function appFor(yaml: string, options: HarnessOptions = {}): Promise<Harness> {
  const files = runtimeFiles(options.policy ?? OPEN_POLICY, options.keys ?? []);
  const config = loadConfigText(`${yaml}\n${files.configLines}`, 'test.yaml', { env: options.env ?? {} });
  const runtime = await buildRuntime(config, noopLogger, options);
  return {
    app: createApp(runtime.deps),
    config,
    runtime,
    files,
    async close() {
      await runtime.close();
      files.remove();
    },
  };
}

/** One default upstream at `url` allowing `<host>/allowed/**`, with optional extra YAML under it. */
export function singleUpstream(url: string, extra = ''): string {
  const host = new URL(url).host;
  return `
listen: { plainHttp: true }
upstreams:
  - name: up
    url: ${url}
    default: true
    repositories: ["${host}/allowed/**"]
    retries: 1
    timeouts: { connectMs: 1000, headersMs: 1000, bodyIdleMs: 1000 }
${extra}`;
}
