// The fault matrix's cache rows (test/faults/README.md): the verified blob cache on a real, small
// filesystem (a tmpfs this test mounts; the suite runs as root) that fills up or turns read-only.
// The cache is bypassed, every pull goes on from the upstream whole and verified by the client, and
// `trustgate_blob_cache_bypassed_total{reason}` and a warn line say so. Then the disk recovers and
// the cache fills again by itself.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ec, spki } from '../admin/key-material.ts';
import { blobPath, buildImage, cosignSignImage, push, startRegistry, type BuiltImage, type RunningRegistry } from '../kit/index.ts';
import { createLogger } from '../../src/log/logger.ts';
import { startProxy, type RunningProxy } from '../support/proxy-server.ts';

const work = mkdtempSync(join(tmpdir(), 'tg-cache-disk-'));
const mount = join(work, 'disk');
const cacheDir = join(mount, 'cache');
const signer = ec('P-256');
const lines: Array<Record<string, unknown>> = [];
const logger = createLogger('warn', { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });

let registry: RunningRegistry;
let proxy: RunningProxy;
let image: BuiltImage;
/** For the read-only case: layers never cached before. */
let second: BuiltImage;

const sha = (bytes: Buffer): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

async function blob(digest: string, repository = 'prod/app'): Promise<{ status: number; body: Buffer }> {
  const res = await fetch(`${proxy.url}/v2/${repository}/blobs/${digest}`);
  return { status: res.status, body: Buffer.from(await res.arrayBuffer()) };
}

async function bypassed(reason: string): Promise<number> {
  const metric = await proxy.runtime.deps.metrics.registry.getSingleMetric('trustgate_blob_cache_bypassed_total')?.get();
  return metric?.values.find((v) => v.labels['reason'] === reason)?.value ?? 0;
}

const warned = (reason: string): boolean => lines.some((line) => JSON.stringify(line).includes(reason));

/** Pulls every layer through trustgate: each must come back 200 and hash to its digest. */
async function pullLayers(of: BuiltImage, repository: string): Promise<void> {
  for (const digest of of.layerDigests) {
    const got = await blob(digest, repository);
    assert.equal(got.status, 200);
    assert.equal(sha(got.body), digest);
    assert.ok(got.body.equals(readFileSync(blobPath(of.layoutDir, digest))));
  }
}

/** Waits out the store's back-off after a disk fault (it retries the disk by itself). */
async function untilCached(digest: string, repository: string): Promise<void> {
  for (let i = 0; i < 60; i++) {
    const got = await blob(digest, repository);
    assert.equal(got.status, 200);
    const hits = (await proxy.runtime.deps.metrics.registry.getSingleMetric('trustgate_blob_cache_requests_total')?.get())?.values
      .filter((v) => v.labels['result'] === 'hit')
      .reduce((sum, v) => sum + v.value, 0);
    if ((hits ?? 0) > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  assert.fail('the cache did not recover once the disk had room again');
}

before(async () => {
  mkdirSync(mount);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', mount]);
  registry = await startRegistry();
  image = await buildImage(join(work, 'img'), { seed: 'cache-disk', layers: 2, layerBytes: 3 * 1_048_576 });
  second = await buildImage(join(work, 'second'), { seed: 'cache-disk-second', layers: 2, layerBytes: 1_048_576 });
  for (const [built, repository] of [
    [image, 'prod/app'],
    [second, 'prod/second'],
  ] as const) {
    assert.equal((await push(built.layoutDir, `docker://${registry.host}/${repository}:v1`)).code, 0);
    await cosignSignImage(registry.url, repository, built.manifestDigest, `${registry.host}/${repository}`, signer.privateKey);
  }
  proxy = await startProxy(
    [
      'listen: { plainHttp: true }',
      `blobCache: { enabled: true, directory: "${cacheDir}" }`,
      `upstreams:\n  - { name: local, url: "${registry.url}", default: true, repositories: ["${registry.host}/**"] }`,
    ].join('\n'),
    {
      policy: `version: 1\nrules:\n  - { name: prod, images: ["${registry.host}/prod/**"] }\n`,
      keys: [{ id: 'release', pem: spki(signer.publicKey), scopes: [`${registry.host}/**`] }],
    },
    logger,
  );
  for (const repository of ['prod/app', 'prod/second']) {
    const res = await fetch(`${proxy.url}/v2/${repository}/manifests/v1`, {
      headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
    });
    assert.equal(res.status, 200);
    await res.arrayBuffer();
  }
});

after(async () => {
  await proxy?.close();
  await registry?.stop();
  try {
    execFileSync('umount', [mount]);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

describe('the blob cache on a disk that fails', () => {
  it('disk full: the cache is bypassed, the pulls go on whole, and a metric and a log line say so', async () => {
    // 8 MiB of disk, 6 MiB of it taken: neither 3 MiB layer fits, each fill runs out of space partway.
    writeFileSync(join(mount, 'ballast'), Buffer.alloc(6 * 1_048_576));
    await pullLayers(image, 'prod/app');
    assert.ok((await bypassed('disk_full')) >= 1, 'trustgate_blob_cache_bypassed_total{reason="disk_full"}');
    assert.ok(warned('disk_full'), 'a warn line names the reason');
    rmSync(join(mount, 'ballast'));
  });

  it('read-only: the cache is bypassed, the pulls go on, a metric and a log line say so; writable again, it fills again', async () => {
    execFileSync('mount', ['-o', 'remount,ro', mount]);
    try {
      // The store may still be backing off from the full disk (skipped fills count under that reason):
      // pull until it tries the disk again and finds it read-only. Every pull must succeed meanwhile.
      for (let i = 0; i < 40 && (await bypassed('read_only')) === 0; i++) {
        await pullLayers(second, 'prod/second');
        if ((await bypassed('read_only')) === 0) await new Promise((resolve) => setTimeout(resolve, 250));
      }
      assert.ok((await bypassed('read_only')) >= 1, 'trustgate_blob_cache_bypassed_total{reason="read_only"}');
      assert.ok(warned('read_only'), 'a warn line names the reason');
    } finally {
      execFileSync('mount', ['-o', 'remount,rw', mount]);
    }
    await untilCached(second.layerDigests[0]!, 'prod/second');
  });
});
