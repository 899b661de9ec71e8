// blob-10mib: wrk GETs of one 10 MiB layer of a signed image in bench/app. Its
// manifest is pulled through trustgate first, which records the layer as
// allowed (blob gate); the rounds then measure streaming the layer.
import { blobPathOf, pushBlobImage } from '../blobs.ts';
import type { BlobImage } from '../blobs.ts';
import { expectServed } from '../enforcement.ts';
import { httpScenario } from '../http-scenario.ts';
import type { BenchEnv } from '../types.ts';

export const BLOB_10MIB_BYTES = 10 * 1024 * 1024;
let pushed: BlobImage | undefined;

const blob = (): BlobImage => {
  if (pushed === undefined) throw new Error('blob-10mib: the image was not pushed (check() runs first)');
  return pushed;
};

async function prepare(env: BenchEnv): Promise<void> {
  pushed ??= await pushBlobImage(env, 'blob-10mib', BLOB_10MIB_BYTES / (1024 * 1024));
  const manifest = `/v2/${pushed.image.repository}/manifests/${pushed.image.tag}`;
  await expectServed('blob-10mib manifest via trustgate', `${env.proxyUrl}${manifest}`, pushed.image);
}

export const blob10Mib = httpScenario({
  name: 'blob-10mib',
  measures: 'GET /v2/<repo>/blobs/<digest> of a 10 MiB layer: streaming a blob (trustgate checks the blob gate, then streams)',
  method: 'GET',
  path: () => blobPathOf(blob()),
  bodyDigest: () => blob().blob.digest,
  bodyBytes: () => BLOB_10MIB_BYTES,
  prepare,
});
