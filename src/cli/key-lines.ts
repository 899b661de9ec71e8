// A trust-store entry as the keys routes answer with it (admin/key-view.ts), and its human lines.

export interface KeyView {
  id: string;
  kind: string;
  scopes: string[];
  purposes: string[];
  notBefore?: string;
  notAfter?: string;
  origin: string;
  status: string;
  revokedAt?: string;
  reason?: string;
  fingerprint: string;
  validNow?: boolean;
}

/** `name: value` lines of one entry; never a PEM (the API sends none). */
export function describeKey(k: KeyView): string[] {
  return [
    `id:          ${k.id}`,
    `kind:        ${k.kind}`,
    `status:      ${k.status}${k.revokedAt === undefined ? '' : ` at ${k.revokedAt}: ${k.reason ?? ''}`}${k.validNow === undefined ? '' : k.validNow ? ' (valid now)' : ' (not valid now)'}`,
    `scopes:      ${k.scopes.join(', ')}`,
    `purposes:    ${k.purposes.join(', ')}`,
    ...(k.notBefore === undefined ? [] : [`not before:  ${k.notBefore}`]),
    ...(k.notAfter === undefined ? [] : [`not after:   ${k.notAfter}`]),
    `origin:      ${k.origin}`,
    `fingerprint: ${k.fingerprint}`,
  ];
}
