import { readFileSync } from 'node:fs';
import { createLocalJWKSet, createRemoteJWKSet, errors, type JWTVerifyGetKey } from 'jose';
import type { AdminConfig } from '../config/types.ts';
import type { Logger } from '../log/logger.ts';
import { bootstrapKey } from './bootstrap-key.ts';

/**
 * The keys admin tokens are verified with: the configured JWKS (a local file read once, or a remote
 * jwks_uri that jose caches with a cooldown on unknown kids) and, with `admin.bootstrap`, the
 * bootstrap public key from its data directory (made there if missing), matched by its `kid`.
 * Accepting bootstrap tokens is logged at warn on every start, with the key's fingerprint.
 */
export function adminTokenKeys(config: AdminConfig, logger: Logger): JWTVerifyGetKey {
  const jwks: JWTVerifyGetKey | undefined =
    config.jwks === undefined
      ? undefined
      : config.jwks.file !== undefined
        ? createLocalJWKSet(JSON.parse(readFileSync(config.jwks.file, 'utf8')))
        : createRemoteJWKSet(new URL(config.jwks.url!));
  if (config.bootstrap === undefined) {
    if (jwks === undefined) throw new Error('admin: neither jwks nor bootstrap is configured');
    return jwks;
  }
  const { dataDir } = config.bootstrap;
  let key: ReturnType<typeof bootstrapKey>;
  try {
    key = bootstrapKey(dataDir, 'public');
  } catch (error) {
    throw new Error(`admin.bootstrap: cannot read or create the bootstrap admin key in ${dataDir}: ${(error as Error).message}`);
  }
  logger.warn(
    { event: 'admin_bootstrap_tokens_accepted', dataDir, fingerprint: key.fingerprint, kid: key.kid, created: key.created },
    'admin.bootstrap is on: admin tokens minted with `trustgate token mint` and this key are accepted; whoever can read its private half is an admin. Turn it off once your issuer is configured',
  );
  return async (header, token) => {
    if (header.kid === key.kid) {
      if (header.alg !== 'ES256') throw new errors.JOSEAlgNotAllowed('bootstrap tokens are ES256');
      return key.publicKey;
    }
    if (jwks === undefined) throw new errors.JWKSNoMatchingKey();
    return jwks(header, token);
  };
}
