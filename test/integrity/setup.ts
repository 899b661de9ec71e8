// What one graph needs from trustgate's files: its trusted key K as a keys/ entry scoped to the
// graph's repository (an untrusted U is made too, and never written), and a policy with one rule for
// it in the graph's multi-arch and identity modes. Shared by the oracle and the skopeo end-to-end test.
import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Runtime } from '../../src/runtime/runtime.ts';
import type { RuntimeFiles } from '../support/runtime-files.ts';
import type { Graph } from './model.ts';

export interface GraphKeys {
  readonly k: KeyObject;
  readonly u: KeyObject;
}

export const newKeys = (): GraphKeys => ({
  k: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey,
  u: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey,
});

export const keyIdOf = (g: Graph): string => `k-g${g.id}`;

/** One rule for the graph's repository: one signature from K, in the graph's modes. */
export const policyFor = (g: Graph): string =>
  `version: 1\nrules:\n  - name: g${g.id}\n    images: ["${g.name}"]\n    multiArch: ${g.multiArch}\n    signatures: { trust: ["${keyIdOf(g)}"], threshold: 1, signedIdentity: ${g.identity} }\n`;

/** Writes K into keys/ (earlier graphs' files removed; their keys stay in the store, scoped to their own repositories) and the policy, and reloads both. */
export async function trustGraph(
  target: { readonly files: RuntimeFiles; readonly runtime: Runtime },
  g: Graph,
  k: KeyObject,
): Promise<void> {
  const { files, runtime } = target;
  const keysDir = join(files.dir, 'keys');
  for (const file of readdirSync(keysDir)) rmSync(join(keysDir, file));
  files.writeKey({ id: keyIdOf(g), pem: createPublicKey(k).export({ type: 'spki', format: 'pem' }).toString(), scopes: [g.name] });
  await runtime.reloadKeys();
  files.writePolicy(policyFor(g));
  if (!runtime.policy.reload()) throw new Error(`the policy for ${g.name} did not load`);
}
