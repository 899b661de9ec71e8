// Writes blobs and manifests straight through the distribution HTTP API (spec.md "Pushing blobs",
// "Pushing Manifests"), for artifacts skopeo cannot make: cosign signatures, notation envelopes,
// referrers fallback indexes. Only for registries the tests started themselves.
import { createHash } from 'node:crypto';

export const sha256 = (bytes: Buffer): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

export interface Pushed {
  readonly digest: string;
  readonly size: number;
}

/** Monolithic blob upload: POST to open, PUT with the digest to close. */
export async function putBlob(
  registryUrl: string,
  repository: string,
  bytes: Buffer,
  headers: Record<string, string> = {},
): Promise<Pushed> {
  const digest = sha256(bytes);
  const open = await fetch(`${registryUrl}/v2/${repository}/blobs/uploads/`, { method: 'POST', headers });
  if (open.status !== 202) throw new Error(`blob upload open: ${open.status} ${await open.text()}`);
  const location = new URL(open.headers.get('location') ?? '', registryUrl);
  location.searchParams.set('digest', digest);
  const put = await fetch(location, { method: 'PUT', headers: { ...headers, 'content-type': 'application/octet-stream' }, body: bytes });
  if (put.status !== 201) throw new Error(`blob upload close: ${put.status} ${await put.text()}`);
  return { digest, size: bytes.length };
}

/** PUT a manifest under a tag or its digest; returns the digest of the exact bytes sent. */
export async function putManifest(
  registryUrl: string,
  repository: string,
  reference: string,
  bytes: Buffer,
  mediaType: string,
  headers: Record<string, string> = {},
): Promise<Pushed> {
  const res = await fetch(`${registryUrl}/v2/${repository}/manifests/${reference}`, {
    method: 'PUT',
    headers: { ...headers, 'content-type': mediaType },
    body: bytes,
  });
  if (res.status !== 201) throw new Error(`manifest put ${reference}: ${res.status} ${await res.text()}`);
  return { digest: sha256(bytes), size: bytes.length };
}

/** GET a manifest's exact bytes, or undefined on 404. */
export async function getManifest(registryUrl: string, repository: string, reference: string, accept: string): Promise<Buffer | undefined> {
  const res = await fetch(`${registryUrl}/v2/${repository}/manifests/${reference}`, { headers: { accept } });
  if (res.status === 404) return undefined;
  if (res.status !== 200) throw new Error(`manifest get ${reference}: ${res.status}`);
  return Buffer.from(await res.arrayBuffer());
}
