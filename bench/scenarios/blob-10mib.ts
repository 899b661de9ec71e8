// blob-10mib: wrk GETs of one 10 MiB layer of a signed image in bench/app. Its
// manifest is pulled through trustgate first, which records the layer as
// allowed (blob gate); the rounds then measure streaming the layer.
// blob-10mib-cached: the same layer through the second trustgate, the one with
// the blob cache on (#15). Its check's GET through that trustgate fills the
// cache, so the rounds measure serving the layer from it.
// cold-start (./cold-start.ts) times GETs of the same layer.
import { blobPathOf, pushBlobImage } from '../blobs.ts';
import type { BlobImage } from '../blobs.ts';
import { expectServed } from '../enforcement.ts';
import { httpScenario } from '../http-scenario.ts';
import { proxyOf } from '../types.ts';
import type { BenchEnv, ProxyChoice } from '../types.ts';

export const BLOB_10MIB_BYTES = 10 * 1024 * 1024;
let pushed: Promise<BlobImage> | undefined;

/** Pushes and signs bench/app:blob-10mib once per run (whichever scenario asks first); the same image afterwards. */
export function tenMibImage(env: BenchEnv): Promise<BlobImage> {
  pushed ??= pushBlobImage(env, 'blob-10mib', BLOB_10MIB_BYTES / (1024 * 1024));
  return pushed;
}

let image: BlobImage | undefined;

const blob = (): BlobImage => {
  if (image === undefined) throw new Error('blob-10mib: the image was not pushed (check() runs first)');
  return image;
};

/** Pushes the image (once) and pulls its manifest through `proxy`, which lets its blob gate serve the layer. */
const prepare =
  (proxy: ProxyChoice) =>
  async (env: BenchEnv): Promise<void> => {
    image = await tenMibImage(env);
    const manifest = `/v2/${image.image.repository}/manifests/${image.image.tag}`;
    await expectServed(`blob-10mib manifest via ${proxy}`, `${proxyOf(env, proxy).url}${manifest}`, image.image);
  };

export const blob10Mib = httpScenario({
  name: 'blob-10mib',
  measures: 'GET /v2/<repo>/blobs/<digest> of a 10 MiB layer: streaming a blob (trustgate checks the blob gate, then streams)',
  method: 'GET',
  path: () => blobPathOf(blob()),
  bodyDigest: () => blob().blob.digest,
  bodyBytes: () => BLOB_10MIB_BYTES,
  prepare: prepare('trustgate'),
});

export const blob10MibCached = httpScenario({
  name: 'blob-10mib-cached',
  measures:
    'GET of the same 10 MiB layer through trustgate-cached (blobCache enabled), after the check GET filled its cache: serving a blob from the cache',
  method: 'GET',
  path: () => blobPathOf(blob()),
  bodyDigest: () => blob().blob.digest,
  bodyBytes: () => BLOB_10MIB_BYTES,
  prepare: prepare('cached'),
  proxy: 'cached',
});
