// `trustgate demo`: a throwaway registry with a signed and an unsigned image, trustgate in front
// of it with a one-rule policy, and skopeo pulling both through trustgate: one served, one denied.
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createApp } from '../runtime/app.ts';
import { loadConfig } from '../config/index.ts';
import { createLogger } from '../log/logger.ts';
import { buildRuntime } from '../runtime/runtime.ts';
import { listen } from '../server/listen.ts';
import { readPrivateKey } from './cosign-payload.ts';
import { displayPath as rel } from './display-path.ts';
import { DEMO_KEY_SCOPE, prepareWorkspace, writeDemoConfig } from './demo-workspace.ts';
import { freePort, REGISTRY_BIN, startLocalRegistry } from './local-registry.ts';
import { writeLayoutImage } from './oci-layout.ts';
import { describeSigned, signImage } from './sign-image.ts';
import { runSkopeo, type SkopeoRun } from './skopeo-run.ts';

export interface DemoOptions {
  /** The workspace, `.data/demo` by default. */
  readonly workdir: string;
  /** Leave trustgate and the registry running until `untilStopped` resolves. */
  readonly keep?: { readonly untilStopped: () => Promise<void> };
  readonly print: (line: string) => void;
}

const INSTALL = 'sudo apt-get install -y docker-registry skopeo';

/** 0 when the signed image was served and the unsigned one denied; 1 otherwise. */
export async function runDemo(options: DemoOptions): Promise<number> {
  const { print } = options;
  const missing = [
    existsSync(REGISTRY_BIN) ? [] : ['docker-registry'],
    (await runSkopeo(['--version'])).code === 0 ? [] : ['skopeo'],
  ].flat();
  if (missing.length > 0) {
    print(`trustgate demo needs the Debian packages docker-registry and skopeo; missing: ${missing.join(', ')}`);
    print(`install them with: ${INSTALL}`);
    return 1;
  }
  const ws = prepareWorkspace(options.workdir);
  print(`trustgate demo in ${rel(ws.dir)}/`);
  print(
    `demo key ${rel(ws.keyFile)} (${ws.keyMade ? 'made now, reused by later runs' : 'made by an earlier run'}); its public half in ${rel(ws.keysDir)}/, scopes ${DEMO_KEY_SCOPE}`,
  );
  const stack: Array<() => Promise<void>> = [];
  try {
    const registry = await startLocalRegistry(join(ws.runDir, 'registry'));
    stack.push(() => registry.stop());
    print(`registry ${registry.url} (docker-registry, storage in ${rel(join(ws.runDir, 'registry'))}/)`);
    print('');
    for (const name of ['signed', 'unsigned']) {
      const image = writeLayoutImage(join(ws.runDir, 'images', name), {
        name: 'hello.txt',
        text: `hello from the ${name} trustgate demo image\n`,
      });
      const pushed = await step(print, [
        'copy',
        '--dest-tls-verify=false',
        `oci:${rel(image.dir)}:${image.tag}`,
        `docker://${registry.host}/demo/${name}:v1`,
      ]);
      if (pushed.code !== 0) return fail(print, pushed);
    }
    print(`$ trustgate sign --key ${rel(ws.keyFile)} --registry ${registry.url} demo/signed:v1`);
    const signed = await signImage({
      url: registry.url,
      repository: 'demo/signed',
      reference: { tag: 'v1' },
      privateKey: readPrivateKey(ws.keyFile),
    });
    for (const line of describeSigned(signed)) print(line);

    const files = writeDemoConfig(ws, registry, await freePort());
    const config = loadConfig(files.configFile);
    const logger = createLogger(config.log.level);
    const runtime = await buildRuntime(config, logger);
    stack.push(() => runtime.close());
    const listening = await listen(createApp(runtime.deps), config.listen, logger);
    stack.push(() => listening.close());
    const proxy = new URL(listening.url).host;
    print('');
    print(
      `trustgate ${listening.url} (config ${rel(files.configFile)}; policy ${rel(files.policyFile)}: rule "demo" needs 1 valid signature on ${registry.host}/demo/**)`,
    );

    print('');
    const good = await step(print, ['inspect', '--tls-verify=false', `docker://${proxy}/demo/signed:v1`]);
    const servedDigest = good.code === 0 ? /"Digest": "([^"]+)"/.exec(good.stdout)?.[1] : undefined;
    const allowed = servedDigest === signed.digest;
    print(
      good.code === 0
        ? `allowed: ${servedDigest ?? '(no digest)'}${allowed ? '' : ` (expected ${signed.digest})`}`
        : `NOT allowed (exit ${good.code}):\n${good.stderr.trimEnd()}`,
    );
    print('');
    const bad = await step(print, ['inspect', '--tls-verify=false', `docker://${proxy}/demo/unsigned:v1`]);
    const denied = bad.code !== 0 && /denied:/.test(bad.stderr);
    print(bad.code === 0 ? 'NOT denied: the unsigned image was served' : `denied (skopeo exit ${bad.code}):\n${bad.stderr.trimEnd()}`);
    print('');
    const ok = allowed && denied;
    print(ok ? 'demo passed: the signed image was served, the unsigned one was refused with its reason.' : 'demo FAILED: see above.');
    if (options.keep !== undefined) {
      print(`trustgate keeps running at ${listening.url} in front of ${registry.url}; try:`);
      print(`  skopeo inspect --tls-verify=false docker://${proxy}/demo/signed:v1`);
      print('press Ctrl-C to stop.');
      await options.keep.untilStopped();
    }
    return ok ? 0 : 1;
  } finally {
    for (const stop of stack.reverse()) await stop().catch(() => undefined);
    rmSync(ws.runDir, { recursive: true, force: true });
  }
}

/** Prints the command, then runs it. */
function step(print: (line: string) => void, args: string[]): Promise<SkopeoRun> {
  print(`$ skopeo ${args.join(' ')}`);
  return runSkopeo(args);
}

function fail(print: (line: string) => void, run: SkopeoRun): number {
  print(`failed (exit ${run.code}):\n${(run.stderr || run.stdout).trimEnd()}`);
  return 1;
}
