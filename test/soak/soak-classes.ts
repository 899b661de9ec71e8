// The soak's request classes: what each sends and the one answer it accepts. Every check returns
// undefined for the expected answer, else what was wrong.
import type { ColdImage } from './cold-stream.ts';
import { SOAK_RULE, type SoakBlob, type SoakFixture, type SoakImage } from './soak-fixture.ts';

export const CLASS_NAMES = [
  'allowed GET tag',
  'allowed HEAD tag',
  'allowed GET digest',
  'allowed HEAD digest',
  'denied GET tag',
  'denied GET digest',
  'denied source',
  'cold GET',
  'blob 1 MiB',
  'blob config',
  'denied blob',
] as const;
export type ClassName = (typeof CLASS_NAMES)[number];

/** Share of requests per class, in percent. `cold GET` falls back to `allowed GET tag` when the stream is behind. */
export const MIX: Readonly<Record<ClassName, number>> = {
  'allowed GET tag': 16,
  'allowed HEAD tag': 12,
  'allowed GET digest': 16,
  'allowed HEAD digest': 10,
  'denied GET tag': 8,
  'denied GET digest': 6,
  'denied source': 4,
  'cold GET': 6,
  'blob 1 MiB': 8,
  'blob config': 8,
  'denied blob': 6,
};

/** How trustgate counts each class in trustgate_decisions_total (src/proxy/manifests.ts, src/app.ts). */
export const DECISION_OF: Readonly<Record<ClassName, 'allow' | 'deny unsigned' | 'deny source' | 'none'>> = {
  'allowed GET tag': 'allow',
  'allowed HEAD tag': 'allow',
  'allowed GET digest': 'allow',
  'allowed HEAD digest': 'allow',
  'cold GET': 'allow',
  'denied GET tag': 'deny unsigned',
  'denied GET digest': 'deny unsigned',
  'denied source': 'deny source',
  // Blob requests are not manifest pulls: a blob-gate refusal is logged, never counted in trustgate_decisions_total.
  'blob 1 MiB': 'none',
  'blob config': 'none',
  'denied blob': 'none',
};

/** containerd's Accept for manifests. */
export const ACCEPT =
  'application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, */*';

export interface Answer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** sha256 of the body, for 200 answers to GET. */
  readonly bodyDigest: string | undefined;
  readonly bodyLength: number;
  /** The body as text, for every other answer (error bodies are small). */
  readonly bodyText: string | undefined;
}

export interface Planned {
  readonly name: ClassName;
  readonly method: 'GET' | 'HEAD';
  readonly path: string;
  readonly check: (answer: Answer) => string | undefined;
}

const header = (answer: Answer, name: string): string | undefined => {
  const value = answer.headers[name];
  return Array.isArray(value) ? value.join(',') : value;
};

function expectManifest(image: Pick<SoakImage, 'digest' | 'size' | 'mediaType'>, method: 'GET' | 'HEAD') {
  return (answer: Answer): string | undefined => {
    if (answer.status !== 200) return `status ${answer.status} (want 200): ${answer.bodyText?.slice(0, 300) ?? ''}`;
    if (header(answer, 'docker-content-digest') !== image.digest)
      return `Docker-Content-Digest ${header(answer, 'docker-content-digest')} (want ${image.digest})`;
    if (header(answer, 'content-type') !== image.mediaType)
      return `Content-Type ${header(answer, 'content-type')} (want ${image.mediaType})`;
    if (header(answer, 'content-length') !== String(image.size))
      return `Content-Length ${header(answer, 'content-length')} (want ${image.size})`;
    if (method === 'GET' && answer.bodyDigest !== image.digest) return `body hashes to ${answer.bodyDigest} (want ${image.digest})`;
    if (method === 'HEAD' && answer.bodyLength !== 0) return `HEAD answered with a ${answer.bodyLength}-byte body`;
    return undefined;
  };
}

function expectBlob(blob: SoakBlob) {
  return (answer: Answer): string | undefined => {
    if (answer.status !== 200) return `status ${answer.status} (want 200): ${answer.bodyText?.slice(0, 300) ?? ''}`;
    if (answer.bodyLength !== blob.size) return `${answer.bodyLength} bytes (want ${blob.size})`;
    if (answer.bodyDigest !== blob.digest) return `body hashes to ${answer.bodyDigest} (want ${blob.digest})`;
    return undefined;
  };
}

/** 403 with the OCI error code DENIED (distribution-spec "Error Codes") and trustgate's rule and reason in `detail`. */
function expectDenied(rule: string, reason: string, digest: string | undefined) {
  return (answer: Answer): string | undefined => {
    if (answer.status !== 403) return `status ${answer.status} (want 403): ${answer.bodyText?.slice(0, 300) ?? ''}`;
    let entry: { code?: unknown; detail?: { rule?: unknown; reasons?: unknown; digest?: unknown } } | undefined;
    try {
      entry = (JSON.parse(answer.bodyText ?? '') as { errors?: Array<typeof entry> }).errors?.[0];
    } catch {
      return `403 body is not JSON: ${answer.bodyText?.slice(0, 300)}`;
    }
    if (entry?.code !== 'DENIED') return `403 with code ${String(entry?.code)} (want DENIED)`;
    if (entry.detail?.rule !== rule) return `denied by rule ${String(entry.detail?.rule)} (want ${rule})`;
    if (JSON.stringify(entry.detail.reasons) !== JSON.stringify([reason]))
      return `denied for ${JSON.stringify(entry.detail.reasons)} (want ["${reason}"])`;
    if (digest !== undefined && entry.detail.digest !== digest) return `denied digest ${String(entry.detail.digest)} (want ${digest})`;
    return undefined;
  };
}

const manifestPath = (repository: string, reference: string): string => `/v2/${repository}/manifests/${reference}`;
const blobPath = (blob: SoakBlob): string => `/v2/${blob.repository}/blobs/${blob.digest}`;

export interface Planner {
  /** The request for `name`; a cold pull needs an image from the stream, else it is an allowed GET by tag. */
  plan(name: ClassName): Planned;
}

export function planner(fixture: SoakFixture, takeCold: () => ColdImage | undefined): Planner {
  const { signed, unsigned } = fixture;
  const fixed: Record<Exclude<ClassName, 'cold GET'>, Planned> = {
    'allowed GET tag': {
      name: 'allowed GET tag',
      method: 'GET',
      path: manifestPath(signed.repository, signed.tag),
      check: expectManifest(signed, 'GET'),
    },
    'allowed HEAD tag': {
      name: 'allowed HEAD tag',
      method: 'HEAD',
      path: manifestPath(signed.repository, signed.tag),
      check: expectManifest(signed, 'HEAD'),
    },
    'allowed GET digest': {
      name: 'allowed GET digest',
      method: 'GET',
      path: manifestPath(signed.repository, signed.digest),
      check: expectManifest(signed, 'GET'),
    },
    'allowed HEAD digest': {
      name: 'allowed HEAD digest',
      method: 'HEAD',
      path: manifestPath(signed.repository, signed.digest),
      check: expectManifest(signed, 'HEAD'),
    },
    'denied GET tag': {
      name: 'denied GET tag',
      method: 'GET',
      path: manifestPath(unsigned.repository, unsigned.tag),
      check: expectDenied(SOAK_RULE, 'unsigned', unsigned.digest),
    },
    'denied GET digest': {
      name: 'denied GET digest',
      method: 'GET',
      path: manifestPath(unsigned.repository, unsigned.digest),
      check: expectDenied(SOAK_RULE, 'unsigned', unsigned.digest),
    },
    'denied source': {
      name: 'denied source',
      method: 'GET',
      path: manifestPath(fixture.outsideRepository, 'v1'),
      check: expectDenied('source-allowlist', 'source_not_allowed', undefined),
    },
    'blob 1 MiB': { name: 'blob 1 MiB', method: 'GET', path: blobPath(fixture.layer), check: expectBlob(fixture.layer) },
    'blob config': { name: 'blob config', method: 'GET', path: blobPath(fixture.config), check: expectBlob(fixture.config) },
    'denied blob': {
      name: 'denied blob',
      method: 'GET',
      path: blobPath(fixture.unsignedLayer),
      check: expectDenied('blob-gate', 'blob_not_referenced', fixture.unsignedLayer.digest),
    },
  };
  return {
    plan(name) {
      if (name !== 'cold GET') return fixed[name];
      const image = takeCold();
      if (image === undefined) return fixed['allowed GET tag'];
      return {
        name,
        method: 'GET',
        path: manifestPath(image.repository, image.byTag ? image.tag : image.digest),
        check: expectManifest(image, 'GET'),
      };
    },
  };
}

/** Picks classes by MIX with a uniform draw. */
export function pickClass(draw: number = Math.random()): ClassName {
  let point = draw * 100;
  for (const name of CLASS_NAMES) {
    point -= MIX[name];
    if (point < 0) return name;
  }
  return CLASS_NAMES[0];
}
