// A real TUF repository made at test time (TUF spec 1.0, as tuf-js reads it): root, timestamp,
// snapshot and targets metadata in canonical JSON, signed with fresh Ed25519 keys, consistent
// snapshots on, served over local HTTP. And sigstore TrustedRoot documents to publish as its
// `trusted_root.json` target: a fresh self-signed CA and an ECDSA P-256 log key.
import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { initializeCA } from '@sigstore/mock';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Canonical JSON (OLPC, as TUF and @tufjs/canonical-json write it): sorted keys, no whitespace, only `"` and `\` escaped. */
export function canonicalJson(value: Json): string {
  if (value === null || typeof value === 'boolean') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new TypeError('canonical JSON has no floats');
    return String(value);
  }
  if (typeof value === 'string') return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  return `{${Object.keys(value)
    .sort()
    .map((k) => `${canonicalJson(k)}:${canonicalJson(value[k]!)}`)
    .join(',')}}`;
}

export interface TufKey {
  readonly id: string;
  readonly json: { keytype: 'ed25519'; scheme: 'ed25519'; keyval: { public: string } };
  readonly privateKey: KeyObject;
}

export function tufKey(): TufKey {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url');
  const json = { keytype: 'ed25519' as const, scheme: 'ed25519' as const, keyval: { public: raw.toString('hex') } };
  return { id: createHash('sha256').update(canonicalJson(json)).digest('hex'), json, privateKey };
}

/** `{ signed, signatures }`, each signature over the canonical form of `signed`. */
export function signMetadata(signed: { [key: string]: Json }, keys: readonly TufKey[]): Buffer {
  const bytes = Buffer.from(canonicalJson(signed));
  const signatures = keys.map((k) => ({ keyid: k.id, sig: sign(null, bytes, k.privateKey).toString('hex') }));
  return Buffer.from(JSON.stringify({ signed, signatures }, null, 1));
}

const sha256 = (bytes: Buffer | string): string => createHash('sha256').update(bytes).digest('hex');
const FAR = '2099-01-01T00:00:00Z';
const SPEC = '1.0.31';
export type Role = 'root' | 'timestamp' | 'snapshot' | 'targets';
const ROLES: readonly Role[] = ['root', 'timestamp', 'snapshot', 'targets'];

/** What the server answers: path (no leading slash) → bytes. A copy taken with `state()` can be served again (a rollback). */
export type RepoState = ReadonlyMap<string, Buffer>;

export interface PublishOptions {
  /** Sign the timestamp with these keys instead of the timestamp role's (a bad signature). */
  readonly timestampSigners?: readonly TufKey[];
  /** The timestamp's expiry (an expired one: a past date). */
  readonly timestampExpires?: string;
  /** The timestamp names this snapshot version instead of the new one (a snapshot rollback). */
  readonly snapshotVersion?: number;
}

/**
 * A TUF repository with one target, `trusted_root.json`. Each `publish` writes new targets,
 * snapshot and timestamp versions; `rotateRoot` writes the next root, signed by the old and new
 * root keys.
 */
export class TufRepo {
  readonly keys: Record<Role, TufKey> = { root: tufKey(), timestamp: tufKey(), snapshot: tufKey(), targets: tufKey() };
  readonly versions = { root: 1, timestamp: 0, snapshot: 0, targets: 0 };
  files = new Map<string, Buffer>();
  /** The version 1 root.json: the pin a client starts from. */
  readonly initialRoot: Buffer;

  constructor() {
    this.initialRoot = this.writeRoot([this.keys.root]);
  }

  private writeRoot(signers: readonly TufKey[]): Buffer {
    const keys: { [id: string]: Json } = {};
    const roles: { [role: string]: Json } = {};
    for (const role of ROLES) {
      keys[this.keys[role].id] = this.keys[role].json;
      roles[role] = { keyids: [this.keys[role].id], threshold: 1 };
    }
    const bytes = signMetadata(
      { _type: 'root', spec_version: SPEC, version: this.versions.root, expires: FAR, consistent_snapshot: true, keys, roles },
      signers,
    );
    this.files.set(`${this.versions.root}.root.json`, bytes);
    this.files.set('root.json', bytes);
    return bytes;
  }

  /**
   * The next root version, with new keys for `roles`, signed by the old root key and the new one
   * (a valid rotation), or by the new one alone (`oldSigns: false`: one a client must refuse).
   */
  rotateRoot(roles: readonly Role[], { oldSigns = true } = {}): void {
    const oldRoot = this.keys.root;
    for (const role of roles) this.keys[role] = tufKey();
    this.versions.root += 1;
    const signers = oldRoot === this.keys.root ? [oldRoot] : oldSigns ? [oldRoot, this.keys.root] : [this.keys.root];
    this.writeRoot(signers);
  }

  /** Publishes `content` as trusted_root.json: new targets, snapshot and timestamp versions. */
  publish(content: string, options: PublishOptions = {}): void {
    const target = Buffer.from(content);
    this.files.set(`targets/${sha256(target)}.trusted_root.json`, target);
    this.versions.targets += 1;
    const targets = signMetadata(
      {
        _type: 'targets',
        spec_version: SPEC,
        version: this.versions.targets,
        expires: FAR,
        targets: { 'trusted_root.json': { length: target.length, hashes: { sha256: sha256(target) } } },
      },
      [this.keys.targets],
    );
    this.files.set(`${this.versions.targets}.targets.json`, targets);
    this.versions.snapshot += 1;
    const snapshot = signMetadata(
      {
        _type: 'snapshot',
        spec_version: SPEC,
        version: this.versions.snapshot,
        expires: FAR,
        meta: { 'targets.json': { version: this.versions.targets } },
      },
      [this.keys.snapshot],
    );
    this.files.set(`${this.versions.snapshot}.snapshot.json`, snapshot);
    this.writeTimestamp(options, snapshot);
  }

  /** A new timestamp version only (over the current snapshot, or the one `options.snapshotVersion` names). */
  writeTimestamp(options: PublishOptions = {}, snapshotBytes?: Buffer): void {
    const snapshotVersion = options.snapshotVersion ?? this.versions.snapshot;
    const snapshot = snapshotBytes ?? this.files.get(`${snapshotVersion}.snapshot.json`)!;
    this.versions.timestamp += 1;
    this.files.set(
      'timestamp.json',
      signMetadata(
        {
          _type: 'timestamp',
          spec_version: SPEC,
          version: this.versions.timestamp,
          expires: options.timestampExpires ?? FAR,
          meta: { 'snapshot.json': { version: snapshotVersion, length: snapshot.length, hashes: { sha256: sha256(snapshot) } } },
        },
        options.timestampSigners ?? [this.keys.timestamp],
      ),
    );
  }

  state(): RepoState {
    return new Map(this.files);
  }

  /** Serves `state` again: older metadata, each file validly signed (a rollback or freeze attack). */
  restore(state: RepoState): void {
    this.files = new Map(state);
  }
}

export interface RepoServer {
  readonly url: string;
  /** Paths requested so far. */
  readonly requests: string[];
  /** Stops listening (connections refused) until `start`. */
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

/** Serves the repository's current files on 127.0.0.1 (a free port); 404 for anything else. */
export async function serveRepo(repo: TufRepo): Promise<RepoServer> {
  const requests: string[] = [];
  let server: Server | undefined;
  let port = 0;
  const listen = async (): Promise<void> => {
    const s = createServer((req, res) => {
      const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname.slice(1));
      requests.push(path);
      const body = repo.files.get(path);
      if (body === undefined) res.writeHead(404).end();
      else res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length }).end(body);
    });
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => resolve());
    });
    port = (s.address() as AddressInfo).port;
    server = s;
  };
  const stop = async (): Promise<void> => {
    const s = server;
    server = undefined;
    if (s === undefined) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  };
  await listen();
  return { url: `http://127.0.0.1:${port}`, requests, stop, start: listen, close: stop };
}

/** A valid sigstore TrustedRoot (trusted_root.json): a fresh self-signed Fulcio-like CA and an ECDSA P-256 Rekor-like log key. */
export async function makeTrustedRoot(name = 'x'): Promise<string> {
  const ca = await initializeCA(generateKeyPairSync('ec', { namedCurve: 'P-256' }));
  const cert = Buffer.from(ca.rootCertificate.buffer, ca.rootCertificate.byteOffset, ca.rootCertificate.byteLength);
  const spki = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'der', type: 'spki' });
  return JSON.stringify({
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs: [
      {
        baseUrl: `https://rekor.${name}.example`,
        hashAlgorithm: 'SHA2_256',
        publicKey: {
          rawBytes: spki.toString('base64'),
          keyDetails: 'PKIX_ECDSA_P256_SHA_256',
          validFor: { start: '2024-01-01T00:00:00Z' },
        },
        logId: { keyId: createHash('sha256').update(spki).digest('base64') },
      },
    ],
    certificateAuthorities: [
      {
        subject: { organization: name, commonName: name },
        uri: `https://fulcio.${name}.example`,
        certChain: { certificates: [{ rawBytes: cert.toString('base64') }] },
        validFor: { start: '2024-01-01T00:00:00Z' },
      },
    ],
    ctlogs: [],
    timestampAuthorities: [],
  });
}
