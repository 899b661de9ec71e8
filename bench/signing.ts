// Signature enforcement for the bench: one ECDSA P-256 key made at run time
// (its private half never leaves this process) and a local sigstore for
// keyless signatures (keyless.ts), the policy and trust-store files trustgate
// reads, cosign signatures for pushed images, and a fast push of small images
// straight through the registry API (for the many images of cold-verification;
// skopeo would spend most of the time starting up).
import { generateKeyPairSync } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  blobPath,
  buildImage,
  makeSimpleSigningPayload,
  putBlob,
  putManifest,
  pushCosignSignature,
  signPayload,
} from '../test/kit/index.ts';
import type { LocalSigstore } from '../test/kit/sigstore-services.ts';
import { keylessRuleYaml, makeLocalSigstore, writeKeylessRoot } from './keyless.ts';
import type { BenchImage } from './types.ts';

/** The one policy rule and the one trust-store id, both named `bench`. */
export const BENCH_RULE = 'bench';
const KEY_ID = 'bench';

export interface BenchSigner {
  /** ECDSA P-256 private key, in memory only. */
  privateKey: KeyObject;
  /** Absolute paths trustgate's config points at. */
  policyFile: string;
  keysDir: string;
  /** The local sigstore (CA, CT log, Rekor log; keys in memory only) whose trusted root is `keys/local-sigstore.json`. */
  sigstore: LocalSigstore;
}

/**
 * Generates the key and the local sigstore and writes `<dir>/policy.yaml` (rule `bench`:
 * `<host>/bench/**`, enforce, threshold 1; rule `keyless`: `<host>/keyless/**`, one keyless identity
 * under the root `local-sigstore`), `<dir>/keys/bench.{pub,yaml}` (scope `<host>/bench/**`) and
 * `<dir>/keys/local-sigstore.{json,yaml}` (scope `**`), see keys/README.md and docs/keyless.md.
 */
export async function makeSigner(dir: string, registryHost: string): Promise<BenchSigner> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const scope = JSON.stringify(`${registryHost}/bench/**`);
  const policyFile = join(dir, 'policy.yaml');
  await writeFile(
    policyFile,
    [
      'version: 1',
      'rules:',
      `  - name: ${BENCH_RULE}`,
      `    images: [${scope}]`,
      '    mode: enforce',
      '    signatures:',
      '      threshold: 1',
      ...keylessRuleYaml(registryHost),
      '',
    ].join('\n'),
  );
  const keysDir = join(dir, 'keys');
  await mkdir(keysDir);
  await writeFile(join(keysDir, `${KEY_ID}.pub`), publicKey.export({ type: 'spki', format: 'pem' }).toString());
  await writeFile(join(keysDir, `${KEY_ID}.yaml`), `scopes: [${scope}]\npurposes: [sign]\n`);
  const sigstore = makeLocalSigstore();
  await writeKeylessRoot(keysDir, sigstore);
  return { privateKey, policyFile, keysDir, sigstore };
}

/** Signs `repository@digest` as cosign does (simple-signing payload, `sha256-<hex>.sig` tag), with the bench key. */
export async function signImage(
  signer: BenchSigner,
  registryUrl: string,
  registryHost: string,
  repository: string,
  digest: string,
): Promise<void> {
  const payload = makeSimpleSigningPayload(digest, `${registryHost}/${repository}`);
  await pushCosignSignature(registryUrl, repository, { digest }, [{ payload, signature: signPayload(signer.privateKey, payload) }]);
}

/** A pushed image and its manifest's exact bytes (what a sigstore bundle's message signature signs). */
export type PushedImage = BenchImage & { manifestBytes: Buffer };

/**
 * Builds a one-layer image from `seed` with the kit's buildImage and pushes it through the
 * registry API (blobs, then the manifest under `tag`). Different seeds give different digests.
 */
export async function pushSmallImage(
  dir: string,
  registryUrl: string,
  repository: string,
  tag: string,
  seed: string,
): Promise<PushedImage> {
  const built = await buildImage(dir, { seed, tag, layers: 1, layerBytes: 1024 });
  const child = built.children[0]!;
  for (const digest of [...child.layers, child.configDigest]) {
    await putBlob(registryUrl, repository, await readFile(blobPath(built.layoutDir, digest)));
  }
  const pushed = await putManifest(registryUrl, repository, tag, built.manifestBytes, built.mediaType);
  if (pushed.digest !== built.manifestDigest)
    throw new Error(`pushed ${repository}:${tag} as ${pushed.digest}, built ${built.manifestDigest}`);
  return { repository, tag, digest: built.manifestDigest, mediaType: built.mediaType, manifestBytes: built.manifestBytes };
}
