import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';

export interface AdminTokens {
  /** YAML for trustgate's `admin:` section. */
  readonly configYaml: string;
  mint(subject: string, roles: readonly string[], options?: { expiresIn?: string; audience?: string; issuer?: string }): Promise<string>;
  /** Signs arbitrary claims and header with the trusted key, for tokens that must be refused. */
  signRaw(claims: Record<string, unknown>, header: Record<string, unknown>): Promise<string>;
}

/** admin.rateLimit for tests that are not about it: the schema's maximums. */
export const UNLIMITED = '{ requestsPerMinute: 1000000, failedAuthPerMinute: 100000 }';

/** An issuer made at test time: an ES256 key, its JWKS written to `dir`, tokens signed on demand. */
export async function adminTokens(dir: string): Promise<AdminTokens> {
  const { publicKey, privateKey } = await generateKeyPair('ES256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'test-1', alg: 'ES256', use: 'sig' };
  const file = join(dir, 'jwks.json');
  writeFileSync(file, JSON.stringify({ keys: [jwk] }));
  return {
    // Tests call the admin API far harder than any deployment would; test/hardening/rate-limit.test.ts sets its own limits.
    configYaml: `admin: { jwks: { file: "${file}" }, issuer: "https://issuer.test", audience: "trustgate", rateLimit: ${UNLIMITED} }\n`,
    mint: (subject, roles, options = {}) => sign(privateKey as CryptoKey, subject, roles, options),
    signRaw: (claims, header) => new SignJWT(claims).setProtectedHeader({ alg: 'ES256', ...header }).sign(privateKey as CryptoKey),
  };
}

function sign(
  key: CryptoKey,
  subject: string,
  roles: readonly string[],
  options: { expiresIn?: string; audience?: string; issuer?: string },
): Promise<string> {
  return new SignJWT({ roles })
    .setProtectedHeader({ alg: 'ES256', kid: 'test-1' })
    .setSubject(subject)
    .setIssuer(options.issuer ?? 'https://issuer.test')
    .setAudience(options.audience ?? 'trustgate')
    .setIssuedAt()
    .setExpirationTime(options.expiresIn ?? '5m')
    .sign(key);
}
