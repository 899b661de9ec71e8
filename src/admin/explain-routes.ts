import type { Request, Response, Router } from 'express';
import type { Config } from '../config/types.ts';
import { TrustgateError } from '../errors/errors.ts';
import { DECISIONS_PER_DIGEST, type DecisionLog } from '../gate/decision-log.ts';
import type { Decision } from '../decision/decision.ts';
import type { Explanation, Gate } from '../gate/types.ts';
import { isDigest, isRepositoryName, isTag, type Reference } from '../oci/reference.ts';
import type { ManifestCache } from '../pull/manifest-cache.ts';
import { preparePull } from '../pull/prepare.ts';
import type { Upstreams } from '../pull/upstreams.ts';
import { mountRoutes, type Guard } from './route-table.ts';
import type { Role } from './tokens.ts';

export interface ExplainRoutesDeps {
  readonly config: Config;
  readonly upstreams: Upstreams;
  readonly manifestCache: ManifestCache;
  /** The gate pulls go through (break glass included), with `explain`. */
  readonly gate: Gate;
  readonly decisions: DecisionLog;
}

const READ: readonly Role[] = ['auditor', 'key-manager']; // and admin
const IMAGE_HELP = 'query "image" must be <registry host>/<repository>:<tag> or <registry host>/<repository>@<digest>';

/**
 * GET /admin/v1/explain?image=…: "why is this image blocked?" without pulling it. The image is
 * resolved like a pull with `ns` = its registry host, its manifest fetched, and the whole gate run
 * without side effects. GET /admin/v1/decisions?digest=…: the latest pulls of a digest.
 */
export function registerExplainRoutes(router: Router, guarded: Guard, deps: ExplainRoutesDeps): void {
  mountRoutes(router, guarded, [
    ['get', '/explain', READ, async (req, res) => explain(req, res, deps)],
    ['get', '/decisions', READ, async (req, res) => decisions(req, res, deps)],
  ]);
}

function parseImage(image: string): { host: string; repository: string; reference: Reference } {
  const at = image.indexOf('@');
  const colon = image.lastIndexOf(':');
  let name: string;
  let reference: Reference;
  if (at >= 0) {
    const digest = image.slice(at + 1);
    if (!isDigest(digest)) throw new TrustgateError('BAD_REQUEST', `${IMAGE_HELP} (the digest is not sha256:<hex> or sha512:<hex>)`);
    name = image.slice(0, at);
    reference = { kind: 'digest', digest };
  } else if (colon > image.lastIndexOf('/') && isTag(image.slice(colon + 1))) {
    name = image.slice(0, colon);
    reference = { kind: 'tag', tag: image.slice(colon + 1) };
  } else throw new TrustgateError('BAD_REQUEST', IMAGE_HELP);
  const slash = name.indexOf('/');
  if (slash <= 0 || !isRepositoryName(name.slice(slash + 1))) throw new TrustgateError('BAD_REQUEST', IMAGE_HELP);
  return { host: name.slice(0, slash), repository: name.slice(slash + 1), reference };
}

async function explain(req: Request, res: Response, deps: ExplainRoutesDeps): Promise<void> {
  const image = req.query['image'];
  if (typeof image !== 'string' || image.length > 600) throw new TrustgateError('BAD_REQUEST', IMAGE_HELP);
  const { host, repository, reference } = parseImage(image);
  // The pull pipeline's own preparation, as a pull with `ns` = the image's registry host and no client.
  const request = { name: repository, ns: host, reference, accept: undefined, client: undefined };
  const pull = await preparePull(request, deps.config.upstreams, undefined, (upstream) => ({
    client: deps.upstreams.get(upstream).client,
    cache: deps.manifestCache,
    maxBytes: deps.config.manifests.maxBytes,
  }));
  if (!pull.ok) {
    res.json(answer(image, undefined, undefined, { decision: pull.decision, findings: [], judgements: [], scan: undefined }));
    return;
  }
  const explained = await deps.gate.explain(pull.context);
  res.json(answer(image, pull.manifest.digest, pull.manifest.parsed.mediaType, explained));
}

const iso = (ms: number | undefined): string | null => (ms === undefined ? null : new Date(ms).toISOString());

function decisionView(d: Decision): Record<string, unknown> {
  return { outcome: d.outcome, rule: d.rule, reasons: d.reasons, signers: d.signers, notAfter: iso(d.notAfter) };
}

function answer(image: string, digest: string | undefined, mediaType: string | undefined, e: Explanation): Record<string, unknown> {
  return {
    image,
    digest: digest ?? null,
    mediaType: mediaType ?? null,
    ...decisionView(e.decision),
    findings: e.findings.map((f, i) => ({
      source: f.source,
      // What the rule counts this signature for, and why not more (its own reasons, whatever the decision).
      countsFor: e.judgements[i]?.signers.map((s) => s.signer) ?? [],
      ...(e.judgements[i]?.problems.length ? { refusals: e.judgements[i]!.problems } : {}),
      scheme: f.scheme,
      verifiedBy: f.verifiedBy,
      ...(f.failure === undefined ? {} : { failure: f.failure }),
      ...(f.signedReference === undefined ? {} : { signedReference: f.signedReference }),
      ...(f.signerSubject === undefined ? {} : { signerSubject: f.signerSubject }),
      ...(f.notAfter === undefined ? {} : { notAfter: iso(f.notAfter) }),
      // Keyless/PKI: the identity, the signing time and where it came from (docs/keyless.md "Explain").
      ...(f.certificates === undefined
        ? {}
        : {
            certificates: f.certificates.map((c) => ({
              root: c.root,
              identity: c.identity,
              signingTime: { source: c.signingTime.source, at: iso(c.signingTime.at) },
              certificateNotAfter: iso(c.certificateNotAfter),
            })),
          }),
      ...(f.logEntries === undefined ? {} : { logEntries: f.logEntries.map((l) => ({ ...l, integratedTime: iso(l.integratedTime) })) }),
      ...(f.logProblems === undefined ? {} : { logProblems: f.logProblems }),
      ...(f.timestamp === undefined ? {} : { timestamp: { authority: f.timestamp.authority, at: iso(f.timestamp.at) } }),
    })),
    scan:
      e.scan === undefined
        ? null
        : {
            required: e.scan.required,
            state: e.scan.state,
            ...(e.scan.record === undefined ? {} : { record: { ...e.scan.record, finishedAt: iso(e.scan.record.finishedAt) } }),
          },
    ...(e.overridden === undefined ? {} : { overrides: decisionView(e.overridden) }),
  };
}

async function decisions(req: Request, res: Response, deps: ExplainRoutesDeps): Promise<void> {
  const digest = req.query['digest'];
  if (typeof digest !== 'string' || !isDigest(digest))
    throw new TrustgateError('BAD_REQUEST', 'query "digest" must be a manifest digest (sha256:<hex>)');
  const limit = Number(req.query['limit'] ?? DECISIONS_PER_DIGEST);
  if (!Number.isInteger(limit) || limit < 1 || limit > DECISIONS_PER_DIGEST)
    throw new TrustgateError('BAD_REQUEST', `"limit" must be a whole number from 1 to ${DECISIONS_PER_DIGEST}`);
  const { records, from } = await deps.decisions.recent(digest, limit);
  res.json({ digest, from, decisions: records.map((r) => ({ ...r, time: iso(r.time), notAfter: iso(r.notAfter) })) });
}
