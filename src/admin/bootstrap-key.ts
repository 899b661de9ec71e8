import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { chmodSync, linkSync, mkdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

// The bootstrap admin key: an ES256 pair in a data directory outside keys/ (never the trust
// store, never committed), so the first admin token can be minted before any OIDC issuer exists.
// `trustgate token mint` signs with the private half; the proxy trusts the public half when
// `admin.bootstrap` is configured. Whichever runs first makes the pair; the other reads it.

/** Where `trustgate token mint` and `admin.bootstrap: {}` look unless told otherwise (relative to the working directory). */
export { DEFAULT_BOOTSTRAP_DIR } from '../config/types.ts';
export const BOOTSTRAP_KEY_FILE = 'bootstrap-admin.key';
export const BOOTSTRAP_PUB_FILE = 'bootstrap-admin.pub';

export interface BootstrapKey {
  readonly publicKey: KeyObject;
  /** Present when the private half was asked for (only `token mint` asks). */
  readonly privateKey?: KeyObject;
  /** `sha256:<hex>` of the public key's SPKI DER. */
  readonly fingerprint: string;
  /** The JWT `kid` of bootstrap tokens, derived from the fingerprint. */
  readonly kid: string;
  /** True when this call generated the pair. */
  readonly created: boolean;
}

const code = (error: unknown): string | undefined => (error as NodeJS.ErrnoException).code;

function describe(publicKey: KeyObject, privateKey: KeyObject | undefined, created: boolean): BootstrapKey {
  if (publicKey.asymmetricKeyType !== 'ec' || publicKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new Error('the bootstrap admin key is not an ECDSA P-256 key');
  }
  const hex = createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest('hex');
  return {
    publicKey,
    ...(privateKey === undefined ? {} : { privateKey }),
    fingerprint: `sha256:${hex}`,
    kid: `bootstrap-${hex.slice(0, 16)}`,
    created,
  };
}

/**
 * The bootstrap key in `dir`, made there (private key mode 0600, directory 0700) when missing.
 * `need: 'public'` (the proxy) also accepts a directory holding only the public file; `private`
 * refuses one (a new pair there would silently replace the key the proxy trusts).
 */
export function bootstrapKey(dir: string, need: 'public' | 'private'): BootstrapKey {
  const keyFile = join(dir, BOOTSTRAP_KEY_FILE);
  const pubFile = join(dir, BOOTSTRAP_PUB_FILE);
  for (let attempt = 0; attempt < 3; attempt += 1) {
    try {
      const mode = statSync(keyFile).mode & 0o777;
      if (need === 'private' && (mode & 0o077) !== 0) {
        throw new Error(`${keyFile} is readable by others (mode 0${mode.toString(8)}); run chmod 600 on it`);
      }
      const privateKey = createPrivateKey(readFileSync(keyFile));
      return describe(createPublicKey(privateKey), need === 'private' ? privateKey : undefined, false);
    } catch (error) {
      if (code(error) !== 'ENOENT') throw error;
    }
    try {
      const publicKey = createPublicKey(readFileSync(pubFile));
      if (need === 'public') return describe(publicKey, undefined, false);
      throw new Error(
        `${dir} holds the bootstrap public key (${BOOTSTRAP_PUB_FILE}) but not its private key; mint where the private key is (--data-dir), or remove ${BOOTSTRAP_PUB_FILE} to make a new pair`,
      );
    } catch (error) {
      if (code(error) !== 'ENOENT') throw error;
    }
    const made = generate(dir, keyFile, pubFile);
    if (made !== undefined) return describe(made.publicKey, need === 'private' ? made.privateKey : undefined, true);
    // Another process made the pair meanwhile: read theirs.
  }
  throw new Error(`could not create or read the bootstrap admin key in ${dir}`);
}

/** Makes the pair; undefined when the key file appeared meanwhile (the link is the atomic step). */
function generate(dir: string, keyFile: string, pubFile: string): { publicKey: KeyObject; privateKey: KeyObject } | undefined {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const tmp = join(dir, `.${BOOTSTRAP_KEY_FILE}.${randomUUID()}`);
  writeFileSync(tmp, pair.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
  chmodSync(tmp, 0o600);
  try {
    linkSync(tmp, keyFile);
  } catch (error) {
    if (code(error) === 'EEXIST') return undefined;
    throw error;
  } finally {
    unlinkSync(tmp);
  }
  const pubTmp = join(dir, `.${BOOTSTRAP_PUB_FILE}.${randomUUID()}`);
  writeFileSync(pubTmp, pair.publicKey.export({ type: 'spki', format: 'pem' }), { mode: 0o644, flag: 'wx' });
  renameSync(pubTmp, pubFile);
  return pair;
}
