// `npx tsx bench/verify-keyless.ts [--iterations N] [--only key,keyless-sig,keyless-bundle]`: the
// signature verification of cold-verification's three variants in one process, with no registry and
// no HTTP: how much of a cold pull is the verifier itself. Each call verifies a different signature
// (made before timing: a fresh ephemeral key and leaf each, as `cosign sign` does), with the same
// code trustgate runs on a pull: verifyCosignSignature for a `.sig` layer, verifySigstoreBundle for
// a bundle referrer, against a key and a sigstore root compiled with compileSigstoreRoot. Wall
// times per call (p50, p95, mean) and the process's CPU time per call (user + system, the check of
// each finding included), which a busy machine inflates less.
// To see where the time goes: `node --import tsx --cpu-prof --cpu-prof-dir /tmp/prof bench/verify-keyless.ts`.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { parseDigest } from '../src/oci/reference.ts';
import { compileSigstoreRoot } from '../src/trust/sigstore-root.ts';
import { verifyCosignSignature, verifySigstoreBundle, SIMPLE_SIGNING_MEDIA_TYPE } from '../src/verify/cosign/index.ts';
import type { SignatureFinding, Subject, TrustMaterial } from '../src/verify/types.ts';
import { buildImage, makeSimpleSigningPayload, signPayload, COSIGN_SIGNATURE_ANNOTATION } from '../test/kit/index.ts';
import { createLocalSigstore } from '../test/kit/sigstore-services.ts';
import { KEYLESS_SIGNING } from './keyless.ts';

const VARIANTS = ['key', 'keyless-sig', 'keyless-bundle'] as const;
type Variant = (typeof VARIANTS)[number];

const REFERENCE = '127.0.0.1:5000/keyless/app';

const { values } = parseArgs({ options: { iterations: { type: 'string' }, only: { type: 'string' } } });
const iterations = Number(values.iterations ?? 300);
if (!Number.isSafeInteger(iterations) || iterations < 1) throw new Error(`--iterations must be a positive integer`);
const only = (values.only?.split(',') ?? [...VARIANTS]) as Variant[];
for (const v of only) if (!VARIANTS.includes(v)) throw new Error(`unknown variant "${v}"; known: ${VARIANTS.join(', ')}`);

const work = await mkdtemp(join(tmpdir(), 'trustgate-verify-keyless-'));
const built = await buildImage(join(work, 'image'), { seed: 'verify-keyless', layers: 1, layerBytes: 1024 });
await rm(work, { recursive: true, force: true });
const subject: Subject = {
  digest: parseDigest(built.manifestDigest),
  size: built.manifestBytes.length,
  mediaType: built.mediaType,
  bytes: built.manifestBytes,
};

const sigstore = createLocalSigstore();
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const compiled = compileSigstoreRoot({
  id: 'local-sigstore',
  kind: 'sigstore-root',
  pem: '',
  trustedRoot: JSON.stringify(sigstore.trustedRoot()),
  scopes: ['**'],
  purposes: ['sign'],
  origin: 'file',
});
const keyTrust: TrustMaterial = { keys: [{ id: 'bench', publicKey }], roots: [], sigstoreRoots: [compiled], tsaRoots: [] };
const keylessTrust: TrustMaterial = { keys: [], roots: [], sigstoreRoots: [compiled], tsaRoots: [] };
const payload = makeSimpleSigningPayload(subject.digest, REFERENCE);

/** One verification call per signature, made up front. */
function calls(variant: Variant, n: number): (() => SignatureFinding)[] {
  return Array.from({ length: n }, (_, i) => {
    const source = `${variant} ${i}`;
    if (variant === 'key') {
      const annotations = { [COSIGN_SIGNATURE_ANNOTATION]: signPayload(privateKey, payload) };
      const sig = { scheme: 'cosign' as const, source, mediaType: SIMPLE_SIGNING_MEDIA_TYPE, payload, annotations };
      return () => verifyCosignSignature(sig, subject, keyTrust, Date.now());
    }
    if (variant === 'keyless-sig') {
      const signed = sigstore.cosignKeylessSignature(payload, KEYLESS_SIGNING);
      const sig = { scheme: 'cosign' as const, source, mediaType: SIMPLE_SIGNING_MEDIA_TYPE, payload, annotations: signed.annotations };
      return () => verifyCosignSignature(sig, subject, keylessTrust, Date.now());
    }
    const bundle = {
      scheme: 'sigstore-bundle' as const,
      source,
      bundle: Buffer.from(JSON.stringify(sigstore.keylessMessageBundle(subject.bytes, KEYLESS_SIGNING))),
    };
    return () => verifySigstoreBundle(bundle, subject, keylessTrust, Date.now());
  });
}

const percentile = (sorted: readonly number[], p: number): number => sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)]!;
const ms = (n: number): string => n.toFixed(3);

process.stdout.write(
  `verify-keyless: ${iterations} signatures per variant (+ ${Math.min(50, iterations)} warm-up), node ${process.version}\n`,
);
process.stdout.write('| variant | p50 ms | p95 ms | mean ms | CPU ms / call | verdict |\n|---|---:|---:|---:|---:|---|\n');
for (const variant of only) {
  for (const call of calls(variant, Math.min(50, iterations))) check(variant, call());
  const timed = calls(variant, iterations);
  const times: number[] = [];
  let last: SignatureFinding | undefined;
  const cpu = process.cpuUsage();
  for (const call of timed) {
    const start = performance.now();
    last = call();
    times.push(performance.now() - start);
    check(variant, last);
  }
  const used = process.cpuUsage(cpu);
  const cpuMs = (used.user + used.system) / 1000 / timed.length;
  const sorted = [...times].sort((a, b) => a - b);
  const mean = times.reduce((a, b) => a + b, 0) / times.length;
  const verdict = `verified by ${last!.verifiedBy.join(', ')}`;
  process.stdout.write(
    `| ${variant} | ${ms(percentile(sorted, 0.5))} | ${ms(percentile(sorted, 0.95))} | ${ms(mean)} | ${ms(cpuMs)} | ${verdict} |\n`,
  );
}

/** Every call must verify: a failing signature would time the wrong path. */
function check(variant: Variant, found: SignatureFinding): void {
  if (found.failure !== undefined || found.verifiedBy.length === 0) {
    throw new Error(`${variant}: ${found.source} did not verify: ${found.failure?.kind ?? 'no verifier'}: ${found.failure?.message ?? ''}`);
  }
  if (variant !== 'key' && (found.logEntries?.length ?? 0) === 0) throw new Error(`${variant}: ${found.source}: no verified log entry`);
  // The realistic path: the bundle's entry carries both its SET and its inclusion proof, and the SCT was required.
  if (variant === 'keyless-bundle' && !found.logEntries!.every((e) => e.promise && e.proof)) {
    throw new Error(`${variant}: ${found.source}: log entry without both promise and proof`);
  }
}
