// The counter arithmetic of the soak: trustgate's own metrics, scraped before the first request and
// after the last answer (nothing in flight either time), against what the soak sent over the run.
//
// How trustgate counts (read from src/pull/report.ts, src/pull/manifests.ts, src/pull/registry-handler.ts):
// - every manifest GET or HEAD, by tag or by digest, verdict cached or not, records exactly one
//   decision in serveManifest, after the gate answers (a by-digest cache hit skips the upstream,
//   not the gate); a repository off the allowlist records one at admission, before anything goes
//   upstream (rule `source-allowlist`);
// - trustgate_denied_pulls_total counts a client's denied pulls: repeats of one name and digest (or,
//   before the manifest is fetched, reference) by one client within a second count once. Every soak
//   request comes from one client (127.0.0.1, no pull auth), and the unsigned image by tag and by
//   digest is one name and digest: each denied class counts at most once per second of the run;
// - a manifest request that fails before the gate (upstream down, digest mismatch) records none:
//   the soak expects none of those, and counts any as an unexpected answer;
// - blob requests record no decision, whether served or refused by the blob gate;
// - trustgate_verification_duration_seconds counts real verifications only (verdict-cache misses;
//   concurrent misses share one).
import { DENY_TTL_MS, SOAK_RULE } from './soak-fixture.ts';
import { DECISION_OF, type ClassName } from './soak-classes.ts';
import { changedSeries, deltaOf, type Scrape } from './metrics-scrape.ts';

interface Sent {
  readonly name: ClassName;
  readonly sent: number;
}

export interface Check {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

const DECISIONS = 'trustgate_decisions_total';
const DENIED_PULLS = 'trustgate_denied_pulls_total';
const ANSWERS = 'trustgate_manifest_requests_total';
const VERIFICATIONS = 'trustgate_verification_duration_seconds_count';

/** `classes`: every request sent between the two scrapes, over `durationMs`. */
export function counterChecks(before: Scrape, after: Scrape, classes: readonly Sent[], durationMs: number): Check[] {
  const count = (kind: (typeof DECISION_OF)[ClassName]): number =>
    classes.filter((k) => DECISION_OF[k.name] === kind).reduce((n, k) => n + k.sent, 0);
  const allow = count('allow');
  const denyUnsigned = count('deny unsigned');
  const denySource = count('deny source');
  const manifests = allow + denyUnsigned + denySource;
  const cold = classes.find((k) => k.name === 'cold GET')?.sent ?? 0;
  // The signed image is verified once, on its first pull; every cold image once; nothing else.
  const allowVerifications = cold + 1;
  const d = (name: string, where: Record<string, string> = {}): number => deltaOf(before, after, name, where);

  const got = {
    total: d(DECISIONS),
    allow: d(DECISIONS, { outcome: 'allow' }),
    allowSoak: d(DECISIONS, { outcome: 'allow', rule: SOAK_RULE, reason: 'none', upstream: 'local' }),
    denyUnsigned: d(DECISIONS, { outcome: 'deny', rule: SOAK_RULE, reason: 'unsigned', upstream: 'local' }),
    denySource: d(DECISIONS, { outcome: 'deny', rule: 'source-allowlist', reason: 'source_not_allowed', upstream: 'local' }),
    warn: d(DECISIONS, { outcome: 'warn' }),
  };
  const decisionsOk =
    got.total === manifests &&
    got.allow === allow &&
    got.allowSoak === allow &&
    got.denyUnsigned === denyUnsigned &&
    got.denySource === denySource &&
    got.warn === 0;
  const series = changedSeries(before, after, DECISIONS)
    .map((s) => `${s.labels['outcome']}/${s.labels['reason']}/${s.labels['rule']}/${s.labels['upstream']} +${s.delta}`)
    .join(', ');

  const answered200 = d(ANSWERS, { status: '200' });
  const answered403 = d(ANSWERS, { status: '403' });
  const answeredAll = d(ANSWERS);

  // One client, one key per denied class: counted once per window (1 s) at most, and at least once.
  const perKeyBound = Math.ceil(durationMs / 1000) + 1;
  const deniedPulls = {
    total: d(DENIED_PULLS),
    unsigned: d(DENIED_PULLS, { reason: 'unsigned', upstream: 'local' }),
    source: d(DENIED_PULLS, { reason: 'source_not_allowed', upstream: 'local' }),
  };
  const within = (got: number, sent: number): boolean => got >= Math.min(1, sent) && got <= Math.min(sent, perKeyBound);
  const deniedPullsOk =
    deniedPulls.total === deniedPulls.unsigned + deniedPulls.source &&
    within(deniedPulls.unsigned, denyUnsigned) &&
    within(deniedPulls.source, denySource);

  const verifiedAllow = d(VERIFICATIONS, { result: 'allow' });
  const verifiedDeny = d(VERIFICATIONS, { result: 'deny' });
  // The unsigned digest's deny verdict lives DENY_TTL_MS; each expiry costs one verification.
  const denyBound = Math.ceil(durationMs / DENY_TTL_MS) + 1;

  return [
    {
      name: 'decision counters add up to the manifest requests sent',
      ok: decisionsOk,
      detail:
        `sent ${manifests} manifest requests (${allow} allowed incl. ${cold} cold, ${denyUnsigned} unsigned, ${denySource} off the allowlist); ` +
        `trustgate_decisions_total rose by ${got.total} (allow ${got.allow}, of which rule ${SOAK_RULE} ${got.allowSoak}; deny unsigned ${got.denyUnsigned}; ` +
        `deny source_not_allowed ${got.denySource}; warn ${got.warn}) [${series}]`,
    },
    {
      name: 'denied pulls counted once per client, name and digest per second',
      ok: deniedPullsOk,
      detail:
        `trustgate_denied_pulls_total rose by ${deniedPulls.total}: unsigned ${deniedPulls.unsigned} for ${denyUnsigned} denied requests, ` +
        `source_not_allowed ${deniedPulls.source} for ${denySource} (each 1 to ${perKeyBound} over ${Math.round(durationMs / 1000)} s, never more than sent)`,
    },
    {
      name: 'manifest answers counted by status',
      ok: answeredAll === manifests && answered200 === allow && answered403 === denyUnsigned + denySource,
      detail: `trustgate_manifest_requests_total rose by ${answeredAll}: 200 ×${answered200} (want ${allow}), 403 ×${answered403} (want ${denyUnsigned + denySource})`,
    },
    {
      name: 'each cold image verified exactly once; warm pulls answered from the verdict cache',
      ok: cold > 0 && verifiedAllow === allowVerifications && verifiedDeny >= 1 && verifiedDeny <= denyBound,
      detail:
        `${cold} cold pulls and the signed image: ${verifiedAllow} allow verifications (want ${allowVerifications}); ` +
        `${verifiedDeny} deny verifications of the unsigned digest (1 to ${denyBound} with a ${DENY_TTL_MS / 1000} s deny TTL over ${Math.round(durationMs / 1000)} s)`,
    },
  ];
}
