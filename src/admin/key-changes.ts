import type { Request, Response } from 'express';
import type { AuditLog } from '../audit/types.ts';
import { TrustgateError } from '../errors/errors.ts';
import { KEY_ID } from '../trust/key-id.ts';
import { checkSigstoreRoot, checkTrustPem } from '../trust/trust-pem.ts';
import { normalizeEntry } from '../trust/trust-snapshot.ts';
import type { TrustEntry, TrustKind, TrustSnapshot, TrustStore } from '../trust/types.ts';
import { audited } from './audit-calls.ts';
import { readJsonBody } from './json-body.ts';
import { checkWindow, parseAdd, parsePatch, parseRevoke, parseRotate } from './key-input.ts';
import { findKey, type KeyView } from './key-view.ts';
import { requireWithin } from './scope.ts';
import type { AdminIdentity } from './tokens.ts';

export interface KeyRoutesDeps {
  readonly trust: TrustStore;
  /** False with the memory trust store (no Redis): changes are refused rather than lost at the next restart. */
  readonly trustDurable: boolean;
  readonly audit: AuditLog;
  readonly now: () => number;
}

/*
 * Changes through the admin API. Every entry they write has origin `api`, which a reload of keys/
 * never overwrites (TrustStore.upsertFromFiles); a revocation beats both. Each change is audited
 * with the entry's public view before and after (never the PEM).
 */

function requireDurable(deps: KeyRoutesDeps): void {
  if (!deps.trustDurable) {
    throw new TrustgateError(
      'CONFLICT',
      'the trust store is not durable without Redis: configure redis.url (a change made here would be lost at the next restart and unseen by other replicas)',
    );
  }
}

function checkedPem(kind: TrustKind, pem: string): string {
  const check = checkTrustPem(kind, pem);
  if (!check.ok) throw new TrustgateError('BAD_REQUEST', check.problem);
  return check.pem;
}

/** The material as stored: re-exported PEM, or the trusted root re-serialized; refused with the reason when unusable. */
function checkedMaterial(input: { kind: TrustKind; pem: string; trustedRoot?: string }): { pem: string; trustedRoot?: string } {
  if (input.kind !== 'sigstore-root') return { pem: checkedPem(input.kind, input.pem) };
  const check = checkSigstoreRoot(input.pem, input.trustedRoot);
  if (!check.ok) throw new TrustgateError('BAD_REQUEST', check.problem);
  return check.material;
}

/** The entry `id` as this replica holds it: 404 when absent, 409 when revoked (revoked entries never change). */
function changeable(snapshot: TrustSnapshot, id: string): { entry: TrustEntry; view: KeyView } {
  const found = KEY_ID.test(id) ? findKey(snapshot, id) : undefined;
  if (found === undefined) throw new TrustgateError('NOT_FOUND', `no trust entry "${id}"`);
  if (found.view.status === 'revoked')
    throw new TrustgateError('CONFLICT', `"${id}" is revoked (${found.view.reason ?? ''}); revocations are final`);
  return found;
}

function unused(snapshot: TrustSnapshot, id: string): void {
  if (snapshot.revocations.some((r) => r.id === id))
    throw new TrustgateError('CONFLICT', `"${id}" is revoked; a revoked id is never reused`);
  if (snapshot.entries.some((e) => e.id === id))
    throw new TrustgateError('CONFLICT', `"${id}" already exists; change it with PATCH, or rotate it`);
}

/** The entry as written, read back from the store's new snapshot (a racing revoke leaves it unwritten). */
function written(snapshot: TrustSnapshot, entry: TrustEntry): KeyView {
  const found = findKey(snapshot, entry.id);
  if (found === undefined || found.view.status === 'revoked' || JSON.stringify(found.entry) !== JSON.stringify(normalizeEntry(entry))) {
    throw new TrustgateError('CONFLICT', `"${entry.id}" was changed or revoked meanwhile; nothing was written for it`);
  }
  return found.view;
}

export async function addKey(req: Request, res: Response, who: AdminIdentity, deps: KeyRoutesDeps): Promise<void> {
  const change = await audited(deps.audit, req, who, async (note) => {
    requireDurable(deps);
    const input = parseAdd(await readJsonBody(req, res, note));
    requireWithin(who, 'key-manager', input.scopes, 'the key scope');
    const material = checkedMaterial(input);
    unused(deps.trust.snapshot(), input.id);
    const { trustedRoot: _given, ...rest } = input;
    const entry: TrustEntry = { ...rest, ...material, origin: 'api' };
    return { after: written(await deps.trust.upsert([entry]), entry) };
  });
  res.status(201).json(change.after);
}

export async function patchKey(req: Request, res: Response, who: AdminIdentity, deps: KeyRoutesDeps): Promise<void> {
  const change = await audited(deps.audit, req, who, async () => {
    requireDurable(deps);
    const patch = parsePatch(await readJsonBody(req, res));
    const { entry: old, view: before } = changeable(deps.trust.snapshot(), String(req.params['id']));
    requireWithin(who, 'key-manager', [...old.scopes, ...(patch.scopes ?? [])], 'the key scope');
    const pick = (given: number | null | undefined, was: number | undefined): number | undefined =>
      given === undefined ? was : (given ?? undefined);
    const notBefore = pick(patch.notBefore, old.notBefore);
    const notAfter = pick(patch.notAfter, old.notAfter);
    checkWindow(notBefore, notAfter);
    const { notBefore: _b, notAfter: _a, ...rest } = old;
    const entry: TrustEntry = {
      ...rest,
      scopes: patch.scopes ?? old.scopes,
      purposes: patch.purposes ?? old.purposes,
      ...(notBefore === undefined ? {} : { notBefore }),
      ...(notAfter === undefined ? {} : { notAfter }),
      origin: 'api',
    };
    return { before, after: written(await deps.trust.upsert([entry]), entry) };
  });
  res.json(change.after);
}

export async function revokeKey(req: Request, res: Response, who: AdminIdentity, deps: KeyRoutesDeps): Promise<void> {
  const change = await audited(deps.audit, req, who, async () => {
    requireDurable(deps);
    const { reason } = parseRevoke(await readJsonBody(req, res));
    const { entry, view: before } = changeable(deps.trust.snapshot(), String(req.params['id']));
    requireWithin(who, 'key-manager', entry.scopes, 'the key scope');
    const after = findKey(await deps.trust.revoke(entry.id, reason, deps.now()), entry.id)?.view;
    return { before, after };
  });
  res.json(change.after);
}

/** The new key takes the old one's scopes and purposes; the old one stays valid until keepOldUntil, then stops. */
export async function rotateKey(req: Request, res: Response, who: AdminIdentity, deps: KeyRoutesDeps): Promise<void> {
  const change = await audited(deps.audit, req, who, async () => {
    requireDurable(deps);
    const input = parseRotate(await readJsonBody(req, res));
    const snapshot = deps.trust.snapshot();
    const { entry: old, view: before } = changeable(snapshot, String(req.params['id']));
    requireWithin(who, 'key-manager', old.scopes, 'the key scope');
    unused(snapshot, input.newId);
    if (old.kind === 'sigstore-root') {
      throw new TrustgateError('BAD_REQUEST', 'a sigstore-root is not rotated: add the new root, then revoke or bound the old one');
    }
    const pem = checkedPem(old.kind, input.pem);
    if (input.keepOldUntil <= deps.now())
      throw new TrustgateError('BAD_REQUEST', '"keepOldUntil" must be in the future (to stop trusting the old key at once, revoke it)');
    if (old.notAfter !== undefined && input.keepOldUntil > old.notAfter)
      throw new TrustgateError(
        'BAD_REQUEST',
        `"keepOldUntil" is after "${old.id}"'s notAfter (${new Date(old.notAfter).toISOString()}): a rotation never extends a key`,
      );
    checkWindow(old.notBefore, input.keepOldUntil);
    const fresh: TrustEntry = { id: input.newId, kind: old.kind, pem, scopes: old.scopes, purposes: old.purposes, origin: 'api' };
    const retiring: TrustEntry = { ...old, notAfter: input.keepOldUntil, origin: 'api' };
    const after = await deps.trust.upsert([fresh, retiring]); // one write: one version, both or neither
    return { before: { old: before }, after: { old: written(after, retiring), new: written(after, fresh) } };
  });
  res.status(201).json(change.after);
}
