// Keyless signatures for the bench (docs/keyless.md): an offline local sigstore from the test kit
// (a Fulcio-like CA with a CT log, a Rekor-like log, keys made at run time), its trusted_root.json
// in trustgate's keys/ as the `sigstore-root` entry `local-sigstore`, and the two forms a public-good
// keyless signature takes in a registry:
//   - cosign's `.sig` layer: leaf certificate and chain annotations (the leaf with an embedded SCT)
//     and the Rekor SET (`dev.sigstore.cosign/bundle`), which is all that form can carry;
//   - a sigstore bundle v0.3 as an OCI 1.1 referrer (cosign v3's form): the leaf with its SCT, one
//     hashedrekord entry with both its SET and its inclusion proof (Merkle path + signed checkpoint),
//     listed in the referrers fallback tag because the Debian registry has no referrers API.
// Every signature gets a fresh ephemeral key and a fresh 10-minute leaf, as `cosign sign` does.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeSimpleSigningPayload, pushCosignSignature } from '../test/kit/index.ts';
import { createLocalSigstore } from '../test/kit/sigstore-services.ts';
import { pushBundleReferrer } from '../test/kit/sigstore-push.ts';
import type { KeylessOptions, LocalSigstore } from '../test/kit/sigstore-services.ts';
import type { BenchImage } from './types.ts';

/** The trust-store id of the local sigstore's trusted root, and the policy rule that names it. */
export const KEYLESS_ROOT = 'local-sigstore';
export const KEYLESS_RULE = 'keyless';
/** Repositories under `<registry host>/keyless/` are judged by the keyless rule (the key rule covers `bench/`). */
export const KEYLESS_PREFIX = 'keyless';

/** The one identity the rule accepts: a GitHub Actions release workflow. */
const ISSUER = 'https://token.actions.githubusercontent.com';
const SUBJECT = 'https://github.com/org/repo/.github/workflows/release.yml@refs/tags/v1';
/** Fresh leaf (SCT embedded, the kit's default) for this identity; one tlog entry with SET and inclusion proof (the default). */
export const KEYLESS_SIGNING: KeylessOptions = { leaf: { uri: SUBJECT, issuer: ISSUER } };

/** A local sigstore whose Rekor log already holds `padEntries` entries (the kit's default, 100), so every proof has a real Merkle path. */
export function makeLocalSigstore(): LocalSigstore {
  return createLocalSigstore();
}

/** Writes `keys/local-sigstore.json` (its trusted_root.json: Fulcio CA, Rekor log, CT log, TSA) and `keys/local-sigstore.yaml`. */
export async function writeKeylessRoot(keysDir: string, sigstore: LocalSigstore): Promise<void> {
  await writeFile(join(keysDir, `${KEYLESS_ROOT}.json`), `${JSON.stringify(sigstore.trustedRoot(), null, 2)}\n`);
  await writeFile(join(keysDir, `${KEYLESS_ROOT}.yaml`), 'scopes: ["**"]\n');
}

/** The policy rule for `<host>/keyless/**`: one keyless authority (the local root), one identity, the log required (the default). */
export function keylessRuleYaml(registryHost: string): string[] {
  return [
    `  - name: ${KEYLESS_RULE}`,
    `    images: [${JSON.stringify(`${registryHost}/${KEYLESS_PREFIX}/**`)}]`,
    '    mode: enforce',
    '    signatures:',
    '      keyless:',
    `        - root: ${KEYLESS_ROOT}`,
    `          identities: [{ issuer: ${JSON.stringify(ISSUER)}, subject: ${JSON.stringify(SUBJECT)} }]`,
  ];
}

/** cosign's `.sig` form: the simple-signing payload signed with a fresh leaf; certificate, chain and SET as layer annotations. */
export async function signKeylessSig(
  sigstore: LocalSigstore,
  registryUrl: string,
  registryHost: string,
  repository: string,
  digest: string,
): Promise<void> {
  const signed = sigstore.cosignKeylessSignature(makeSimpleSigningPayload(digest, `${registryHost}/${repository}`), KEYLESS_SIGNING);
  await pushCosignSignature(registryUrl, repository, { digest }, [signed]);
}

/**
 * cosign v3's form: a sigstore bundle v0.3 (message signature over the manifest bytes) as the one
 * layer of a referrer manifest (artifactType = the bundle media type, empty config, `subject` = the
 * image), listed in the referrers fallback index `sha256-<hex>`.
 */
export async function pushKeylessBundle(
  sigstore: LocalSigstore,
  registryUrl: string,
  image: BenchImage,
  manifestBytes: Buffer,
): Promise<void> {
  const bundle = sigstore.keylessMessageBundle(manifestBytes, KEYLESS_SIGNING);
  await pushBundleReferrer(
    registryUrl,
    image.repository,
    { mediaType: image.mediaType, digest: image.digest, size: manifestBytes.length },
    bundle,
  );
}
