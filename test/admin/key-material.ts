// Keys and roots generated at test time for the key routes (never committed).
import { createHash, generateKeyPairSync, type KeyObject } from 'node:crypto';

export const spki = (key: KeyObject): string => key.export({ type: 'spki', format: 'pem' }).toString();
export const fingerprint = (key: KeyObject): string =>
  `sha256:${createHash('sha256')
    .update(key.export({ type: 'spki', format: 'der' }))
    .digest('hex')}`;

export const ec = (namedCurve: string) => generateKeyPairSync('ec', { namedCurve });
export const rsa = (modulusLength: number) => generateKeyPairSync('rsa', { modulusLength });

/** A private key in each PEM flavour: PKCS#8, SEC1, PKCS#1. */
export function privatePems(): { label: string; pem: string; body: string }[] {
  const e = ec('P-256').privateKey;
  const r = rsa(2048).privateKey;
  const pems = [
    { label: 'PKCS#8 EC', pem: e.export({ type: 'pkcs8', format: 'pem' }).toString() },
    { label: 'SEC1 EC', pem: e.export({ type: 'sec1', format: 'pem' }).toString() },
    { label: 'PKCS#1 RSA', pem: r.export({ type: 'pkcs1', format: 'pem' }).toString() },
  ];
  // The base64 body: what must never appear anywhere, with or without its armour.
  return pems.map((p) => ({ ...p, body: p.pem.split('\n').slice(1, 3).join('') }));
}
