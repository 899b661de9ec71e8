import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

/** scrypt parameters for robot secrets: N=2^14, r=8, p=1, a 32-byte key, a 16-byte salt. */
export const SCRYPT_PARAMS = Object.freeze({ N: 2 ** 14, r: 8, p: 1, keyLength: 32, saltLength: 16 });

/** What is stored instead of a robot's secret (base64). */
export interface SecretHash {
  readonly salt: string;
  readonly hash: string;
}

/** 32 random bytes, base64url: shown once, never stored. */
export function newRobotSecret(): string {
  return randomBytes(32).toString('base64url');
}

export async function hashSecret(secret: string): Promise<SecretHash> {
  const salt = randomBytes(SCRYPT_PARAMS.saltLength);
  const hash = await derive(secret, salt);
  return { salt: salt.toString('base64'), hash: hash.toString('base64') };
}

// For names that have no robot: the same scrypt and compare, so timing does not tell which names exist.
const PLACEHOLDER: SecretHash = {
  salt: randomBytes(SCRYPT_PARAMS.saltLength).toString('base64'),
  hash: randomBytes(SCRYPT_PARAMS.keyLength).toString('base64'),
};

/**
 * Whether `secret` is the one `stored` was made from. Always one scrypt and one constant-time
 * compare (timingSafeEqual), whether or not there is a stored hash and whatever its shape.
 */
export async function secretMatches(secret: string, stored: SecretHash | undefined): Promise<boolean> {
  const record = stored ?? PLACEHOLDER;
  const salt = Buffer.from(record.salt, 'base64');
  const expected = Buffer.from(record.hash, 'base64');
  const derived = await derive(secret, salt.length > 0 ? salt : Buffer.from(PLACEHOLDER.salt, 'base64'));
  const comparable = expected.length === derived.length;
  // timingSafeEqual needs equal lengths: a malformed stored hash compares against itself and fails below.
  const equal = timingSafeEqual(derived, comparable ? expected : derived);
  return stored !== undefined && comparable && equal;
}

function derive(secret: string, salt: Buffer): Promise<Buffer> {
  const { N, r, p, keyLength } = SCRYPT_PARAMS;
  return new Promise((resolve, reject) => {
    scrypt(secret, salt, keyLength, { N, r, p }, (error, key) => (error === null ? resolve(key) : reject(error)));
  });
}
