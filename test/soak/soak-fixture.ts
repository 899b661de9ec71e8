// What the soak pulls: the real registry (Debian docker-registry, test kit) holding a signed image
// with a 1 MiB layer, an unsigned image, and a stream of freshly signed images for cold pulls; an
// ECDSA P-256 key made here, trusted through a keys dir; an enforce policy for `<host>/soak/**`.
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { blobPath, buildImage, cosignSignImage, putBlob, putManifest, sha256, startRegistry, type RunningRegistry } from '../kit/index.ts';
import type { KeyFile } from '../support/runtime-files.ts';
import { ColdStream, type ColdTemplate } from './cold-stream.ts';

export const SOAK_RULE = 'soak';
/** How long trustgate keeps a deny verdict (gate.verdicts.denyTtlMs, set in the config below). */
export const DENY_TTL_MS = 30_000;

export interface SoakImage {
  readonly repository: string;
  readonly tag: string;
  readonly digest: string;
  readonly mediaType: string;
  readonly size: number;
}

export interface SoakBlob {
  readonly repository: string;
  readonly digest: string;
  readonly size: number;
}

export interface SoakFixture {
  readonly registry: RunningRegistry;
  /** Signed with the trusted key: allowed. Its one layer is 1 MiB. */
  readonly signed: SoakImage;
  /** Never signed: denied by rule `soak` (reason `unsigned`). */
  readonly unsigned: SoakImage;
  /** A repository outside the upstream's allowlist: denied before anything goes upstream. */
  readonly outsideRepository: string;
  /** Blobs of the signed image. */
  readonly layer: SoakBlob;
  readonly config: SoakBlob;
  /** The unsigned image's layer: no allowed manifest references it, so the blob gate refuses it. */
  readonly unsignedLayer: SoakBlob;
  readonly cold: ColdStream;
  readonly policy: string;
  readonly keys: readonly KeyFile[];
  /** The `upstreams:` and `gate:` part of trustgate's config. */
  readonly configYaml: string;
  close(): Promise<void>;
}

const pemOf = (key: KeyObject): string => key.export({ type: 'spki', format: 'pem' }).toString();

async function pushBuilt(registryUrl: string, dir: string, repository: string, tag: string, seed: string, layerBytes: number) {
  const built = await buildImage(dir, { seed, tag, layers: 1, layerBytes });
  const child = built.children[0]!;
  const blobs = await Promise.all([...child.layers, child.configDigest].map((d) => readFile(blobPath(built.layoutDir, d))));
  for (const bytes of blobs) await putBlob(registryUrl, repository, bytes);
  await putManifest(registryUrl, repository, tag, built.manifestBytes, built.mediaType);
  const image: SoakImage = { repository, tag, digest: built.manifestDigest, mediaType: built.mediaType, size: built.manifestBytes.length };
  return { image, built, layerBytes: blobs[0]!, configBytes: blobs[1]! };
}

export interface SoakFixtureOptions {
  /** Fresh signed images pushed per second while the soak runs. */
  readonly coldPerSecond: number;
  /** Images pushed before the load starts. */
  readonly coldReserve: number;
}

export async function setUpSoak(options: SoakFixtureOptions): Promise<SoakFixture> {
  const work = await mkdtemp(join(tmpdir(), 'tg-soak-'));
  const registry = await startRegistry();
  try {
    const host = registry.host;
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });

    const app = await pushBuilt(registry.url, join(work, 'app'), 'soak/app', 'v1', 'soak-signed', 1_048_576);
    await cosignSignImage(registry.url, 'soak/app', app.image.digest, `${host}/soak/app`, privateKey);
    const unsigned = await pushBuilt(registry.url, join(work, 'unsigned'), 'soak/unsigned', 'v1', 'soak-unsigned', 1024);

    // Cold images share one small layer and config; each manifest differs by an annotation.
    const base = await pushBuilt(registry.url, join(work, 'cold'), 'soak/cold', 'base', 'soak-cold', 1024);
    const template: ColdTemplate = {
      repository: 'soak/cold',
      manifest: JSON.parse(base.built.manifestBytes.toString()) as Record<string, unknown>,
      mediaType: base.image.mediaType,
    };
    const cold = new ColdStream({ registryUrl: registry.url, registryHost: host, privateKey, template, perSecond: options.coldPerSecond });
    await cold.fill(options.coldReserve);

    return {
      registry,
      signed: app.image,
      unsigned: unsigned.image,
      outsideRepository: 'elsewhere/app',
      layer: { repository: 'soak/app', digest: sha256(app.layerBytes), size: app.layerBytes.length },
      config: { repository: 'soak/app', digest: sha256(app.configBytes), size: app.configBytes.length },
      unsignedLayer: { repository: 'soak/unsigned', digest: sha256(unsigned.layerBytes), size: unsigned.layerBytes.length },
      cold,
      policy: `version: 1\nrules:\n  - { name: ${SOAK_RULE}, images: ["${host}/soak/**"], mode: enforce, signatures: { threshold: 1 } }\n`,
      keys: [{ id: 'soak', pem: pemOf(publicKey), scopes: [`${host}/soak/**`] }],
      configYaml: [
        'upstreams:',
        '  - name: local',
        `    url: ${registry.url}`,
        '    default: true',
        `    repositories: ["${host}/soak/**"]`,
        `gate: { verdicts: { denyTtlMs: ${DENY_TTL_MS} } }`,
        '',
      ].join('\n'),
      async close() {
        await cold.stop();
        await registry.stop();
        await rm(work, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await registry.stop();
    await rm(work, { recursive: true, force: true });
    throw error;
  }
}
