import type { Request, Response } from 'express';
import type { Config } from '../config/types.ts';
import { TrustgateError } from '../errors/errors.ts';
import { checkSource } from '../gate/source-check.ts';
import type { Logger } from '../log/logger.ts';
import { isDigest, isRepositoryName, printable, type Digest } from '../oci/reference.ts';
import type { ManifestCache } from '../pull/manifest-cache.ts';
import { fetchManifest } from '../pull/manifest-fetch.ts';
import { resolveSource, type Source } from '../upstream/source.ts';
import type { Upstreams } from '../pull/upstreams.ts';
import { isScanReportError } from '../scan/errors.ts';
import { parseTrivyReport } from '../scan/trivy-report.ts';
import type { ScanStore } from '../scan-store/types.ts';
import type { AuditLog } from '../audit/types.ts';
import { audited, type AuditedChange } from './audit-calls.ts';
import type { AdminIdentity } from './tokens.ts';

export interface ScanRoutesDeps {
  readonly config: Config;
  readonly scans: ScanStore;
  readonly upstreams: Upstreams;
  readonly manifestCache: ManifestCache;
  readonly logger: Logger;
  readonly now: () => number;
  /** Every posted report is audited (action scan.post), refused ones too. */
  readonly audit: AuditLog;
}

/**
 * POST /admin/v1/scans?image=<canonical name>@<digest> with a Trivy JSON report as the body. The
 * report must be of that manifest: its RepoDigests name the digest, or its ImageID is the
 * manifest's config digest (read from the upstream). The scan time is the report's CreatedAt.
 */
export async function postScan(req: Request, res: Response, identity: AdminIdentity, deps: ScanRoutesDeps): Promise<void> {
  const change = await audited(deps.audit, req, identity, () => storeScan(req, identity, deps));
  res.status(201).json(change.after);
}

async function storeScan(req: Request, identity: AdminIdentity, deps: ScanRoutesDeps): Promise<AuditedChange> {
  const { source, digest } = imageOf(req, deps.config);
  if (!Buffer.isBuffer(req.body) || req.body.length === 0) throw new TrustgateError('BAD_REQUEST', 'the body must be a Trivy JSON report');
  const manifest = await fetchManifest(source, { kind: 'digest', digest }, undefined, {
    client: deps.upstreams.get(source.upstream.name).client,
    cache: deps.manifestCache,
    maxBytes: deps.config.manifests.maxBytes,
  });
  const configDigest = manifest.parsed.children.length === 0 ? manifest.parsed.blobs[0] : undefined;
  let record;
  try {
    record = parseTrivyReport(req.body, { digest, configDigest, canonicalName: source.canonicalName }, deps.now(), {
      maxSkewMs: deps.config.admin?.maxClockSkewMs ?? 300_000,
      maxBytes: deps.config.admin?.maxBodyBytes ?? 16 * 1_048_576,
    });
  } catch (error) {
    if (isScanReportError(error)) throw new TrustgateError('BAD_REQUEST', `report refused: ${error.message}`);
    throw error;
  }
  try {
    await deps.scans.put(record);
  } catch (error) {
    throw new TrustgateError('STORE_UNAVAILABLE', 'the scan store is unavailable; the report was not stored', { cause: error });
  }
  deps.logger.info(
    {
      event: 'scan_posted',
      by: identity.subject,
      name: source.canonicalName,
      digest,
      scanner: record.scanner,
      counts: record.counts,
      finishedAt: new Date(record.finishedAt).toISOString(),
    },
    'scan report stored',
  );
  const stored = {
    digest,
    scanner: record.scanner,
    finishedAt: new Date(record.finishedAt).toISOString(),
    counts: record.counts,
    findings: record.findings.length,
  };
  return { target: `${source.canonicalName}@${digest}`, after: stored };
}

export async function getQueue(req: Request, res: Response, deps: ScanRoutesDeps): Promise<void> {
  const limit = Number(req.query['limit'] ?? 100);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
    throw new TrustgateError('BAD_REQUEST', '"limit" must be a whole number from 1 to 1000');
  const pending = await deps.scans.pending(limit);
  res.json({ pending: pending.map((p) => ({ ...p, requestedAt: new Date(p.requestedAt).toISOString() })) });
}

export async function getScan(req: Request, res: Response, deps: ScanRoutesDeps): Promise<void> {
  const digest = String(req.params['digest']);
  if (!isDigest(digest)) throw new TrustgateError('BAD_REQUEST', `"${printable(digest)}" is not a digest`);
  const record = await deps.scans.get(digest);
  if (record === undefined) {
    res.status(404).json({ digest, state: (await deps.scans.isPending(digest)) ? 'pending' : 'unscanned' });
    return;
  }
  res.json({ ...record, finishedAt: new Date(record.finishedAt).toISOString() });
}

/** `image=<registry host>/<repository>@<digest>`, resolved like a pull with `ns`, and on the allowlist. */
function imageOf(req: Request, config: Config): { source: Source; digest: Digest } {
  const image = typeof req.query['image'] === 'string' ? req.query['image'] : '';
  const at = image.lastIndexOf('@');
  const name = image.slice(0, at);
  const digest = image.slice(at + 1);
  const slash = name.indexOf('/');
  if (at < 0 || slash < 0 || !isDigest(digest) || !isRepositoryName(name.slice(slash + 1))) {
    throw new TrustgateError('BAD_REQUEST', 'query "image" must be <registry host>/<repository>@<digest>');
  }
  const resolved = resolveSource(config.upstreams, name.slice(slash + 1), name.slice(0, slash));
  if (!resolved.ok) throw new TrustgateError('BAD_REQUEST', resolved.message);
  if (checkSource(resolved.source) !== undefined)
    throw new TrustgateError('BAD_REQUEST', `"${resolved.source.canonicalName}" is not on any upstream's allowlist`);
  return { source: resolved.source, digest };
}
