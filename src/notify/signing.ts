// `X-Trustgate-Signature` (docs/notifications.md "Signing"): HMAC-SHA256 over "<timestamp>.<raw body>",
// as Stripe and Slack sign theirs, so a receiver can check both the body and its age.
import { createHmac, timingSafeEqual } from 'node:crypto';

/** `v1=<hex>` for a body sent at `timestamp` (unix seconds). */
export function signature(secret: string, timestamp: number, body: string | Buffer): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex')}`;
}

/** What a receiver does (the docs' snippet): true when `header` signs `body` at `timestamp` and it is within `toleranceSeconds` of `nowSeconds`. */
export function verifySignature(
  secret: string,
  header: string,
  timestamp: string,
  body: string | Buffer,
  nowSeconds: number,
  toleranceSeconds = 300,
): boolean {
  if (!/^\d{1,12}$/.test(timestamp) || Math.abs(nowSeconds - Number(timestamp)) > toleranceSeconds) return false;
  const expected = Buffer.from(signature(secret, Number(timestamp), body));
  const given = Buffer.from(header);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
