import { createApp } from '../../src/runtime/app.ts';
import { loadConfigText } from '../../src/config/index.ts';
import { noopLogger, type Logger } from '../../src/log/logger.ts';
import { buildRuntime, type Runtime } from '../../src/runtime/runtime.ts';
import { createFront } from '../../src/server/front.ts';
import { listen } from '../../src/server/listen.ts';
import type { HarnessOptions } from './app-harness.ts';
import { OPEN_POLICY, runtimeFiles, type RuntimeFiles } from './runtime-files.ts';

export interface RunningProxy {
  readonly url: string;
  /** host:port, for image references. */
  readonly host: string;
  readonly runtime: Runtime;
  readonly files: RuntimeFiles;
  close(): Promise<void>;
}

/** trustgate wired exactly as main.ts wires it, listening on a free loopback port. */
export async function startProxy(yaml: string, options: HarnessOptions = {}, logger: Logger = noopLogger): Promise<RunningProxy> {
  const files = runtimeFiles(options.policy ?? OPEN_POLICY, options.keys ?? []);
  const config = loadConfigText(`${yaml}\n${files.configLines}`, 'test.yaml', {
    env: options.env ?? {},
    overrides: { listen: '127.0.0.1:0' },
  });
  const runtime = await buildRuntime(config, logger, options);
  const front = createFront(logger);
  front.ready(createApp(runtime.deps), runtime.health);
  const listening = await listen(front.handler, config.listen, logger);
  return {
    url: listening.url,
    host: new URL(listening.url).host,
    runtime,
    files,
    async close() {
      await listening.close();
      await runtime.close();
      files.remove();
    },
  };
}
