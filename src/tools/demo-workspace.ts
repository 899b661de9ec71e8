// `trustgate demo`'s files: a demo key made on first run and reused (never under keys/), a
// trust store with its public half, and per run a registry, two image layouts, a config and a
// policy. Everything lives under the workspace (`.data/demo/` by default, ignored by git).
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { publicKeyPem, readPrivateKey } from './cosign-payload.ts';
import { generateKey } from './keygen.ts';

export const DEMO_KEY_ID = 'demo';
/** Any loopback registry port: each run's registry gets a new one. */
export const DEMO_KEY_SCOPE = '127.0.0.1:*/demo/**';

export interface DemoWorkspace {
  readonly dir: string;
  /** The demo's private key (PKCS#8 PEM, 0600). */
  readonly keyFile: string;
  /** The trust store trustgate reads: demo.pub and demo.yaml. */
  readonly keysDir: string;
  /** This run's files, wiped at the start of every run. */
  readonly runDir: string;
  /** True when this run made the key. */
  readonly keyMade: boolean;
}

export function prepareWorkspace(dir: string): DemoWorkspace {
  const keyFile = join(dir, `${DEMO_KEY_ID}.key`);
  const keysDir = join(dir, 'keys');
  const pubFile = join(keysDir, `${DEMO_KEY_ID}.pub`);
  const keyMade = !existsSync(keyFile);
  if (keyMade) {
    rmSync(keysDir, { recursive: true, force: true }); // a public half without its key is useless
    generateKey({ out: dir, keysDir, id: DEMO_KEY_ID, scopes: [DEMO_KEY_SCOPE] });
  } else {
    mkdirSync(keysDir, { recursive: true });
    writeFileSync(pubFile, publicKeyPem(readPrivateKey(keyFile)));
    writeFileSync(join(keysDir, `${DEMO_KEY_ID}.yaml`), `scopes: [${JSON.stringify(DEMO_KEY_SCOPE)}]\npurposes: [sign]\n`);
  }
  const runDir = join(dir, 'run');
  rmSync(runDir, { recursive: true, force: true });
  mkdirSync(runDir, { recursive: true });
  return { dir, keyFile, keysDir, runDir, keyMade };
}

export interface DemoFiles {
  readonly configFile: string;
  readonly policyFile: string;
}

/** trustgate's config and policy for one run: the run's registry as the only upstream, rule `demo`. */
export function writeDemoConfig(ws: DemoWorkspace, registry: { url: string; host: string }, proxyPort: number): DemoFiles {
  const configFile = join(ws.runDir, 'trustgate.yaml');
  const policyFile = join(ws.runDir, 'policy.yaml');
  const images = JSON.stringify(`${registry.host}/demo/**`);
  writeFileSync(
    policyFile,
    [
      '# written by trustgate demo: images under demo/ need one valid signature from a key in keys/',
      'version: 1',
      'rules:',
      '  - name: demo',
      `    images: [${images}]`,
      '    mode: enforce',
      '    signatures:',
      '      threshold: 1',
      '',
    ].join('\n'),
  );
  writeFileSync(
    configFile,
    [
      '# written by trustgate demo',
      `listen: { address: "127.0.0.1:${proxyPort}", plainHttp: true }`,
      'log: { level: warn }',
      'upstreams:',
      // Not "demo": an upstream's name is also a path prefix, and would swallow demo/<image>.
      '  - name: local',
      `    url: ${registry.url}`,
      '    default: true',
      `    repositories: [${images}]`,
      'policy: { file: policy.yaml }',
      `keys: { dir: ${JSON.stringify(ws.keysDir)} }`,
      '',
    ].join('\n'),
  );
  return { configFile, policyFile };
}
