import type { AuditLog } from '../audit/types.ts';
import type { Logger } from '../log/logger.ts';
import { findBreakGlass, type BreakGlassEntry, type BreakGlassStore } from '../breakglass/entries.ts';
import { BuiltInRule } from './built-in.ts';
import { AllowanceSource } from './provenance.ts';
import type { Decision } from '../decision/decision.ts';
import type { Gate, PullContext } from './types.ts';

export const BREAK_GLASS_RULE = 'break-glass';

/**
 * Denials no break-glass entry overrides: who may pull, which sources exist, and which manifest
 * formats can be verified at all are not policy.
 */
const FIXED_RULES = new Set(['pull-access', 'source-allowlist', BuiltInRule.manifestFormat]);

export interface BreakGlassDeps {
  readonly entries: BreakGlassStore;
  readonly now: () => number;
  readonly logger: Logger;
  /** Each entry's first use per image and replica is audited (`breakglass.use`). */
  readonly audit?: AuditLog;
}

/**
 * Break glass around the gate: runs on every pull, after the gate (and its verdict cache), so an
 * entry takes effect, ends or expires at once. A denial matched by an active entry becomes an
 * allow, rule `break-glass`, reason `break_glass`, with notAfter at the entry's expiry. The
 * allow itself is never cached; the gate's own verdict stays the denial. The image's own blobs are
 * granted under the entry, so they stop with it (ended or expired); an index's children are not
 * covered: an entry covers exactly what it names (config/README.md "Break glass").
 */
export function withBreakGlass(gate: Gate, deps: BreakGlassDeps): Gate {
  const used = new Set<string>();

  function override(context: PullContext, decision: Decision): { decision: Decision; entry?: BreakGlassEntry } {
    if (decision.outcome !== 'deny' || FIXED_RULES.has(decision.rule)) return { decision };
    const now = deps.now();
    const entry = findBreakGlass(deps.entries.active(now), context.canonicalName, context.manifest.digest, now);
    if (entry === undefined) return { decision };
    const message = `break glass "${entry.id}" by ${entry.actor} until ${new Date(entry.expires).toISOString()}: ${entry.reason}`;
    return {
      entry,
      decision: {
        outcome: 'allow',
        rule: BREAK_GLASS_RULE,
        reasons: [{ code: 'break_glass', message }],
        signers: decision.signers,
        digest: context.manifest.digest,
        notAfter: entry.expires,
      },
    };
  }

  /** The first use of an entry for an image on this replica: logged and audited (each pull has its decision record anyway). */
  async function firstUse(context: PullContext, denied: Decision, entry: BreakGlassEntry): Promise<void> {
    const target = `${context.canonicalName}@${context.manifest.digest}`;
    const key = `${entry.id} ${target}`;
    if (used.has(key)) return;
    if (used.size >= 10_000) used.clear();
    used.add(key);
    deps.logger.warn(
      {
        event: 'break_glass_used',
        id: entry.id,
        name: context.canonicalName,
        digest: context.manifest.digest,
        overrides: { rule: denied.rule, reasons: denied.reasons.map((r) => r.code) },
      },
      'pull allowed by break glass',
    );
    await deps.audit?.append({
      actor: context.client?.subject ?? '(pull)',
      roles: [],
      action: 'breakglass.use',
      target,
      outcome: 'ok',
      message: `allowed by break glass "${entry.id}" (by ${entry.actor} until ${new Date(entry.expires).toISOString()}: ${entry.reason})`,
      before: { rule: denied.rule, reasons: denied.reasons.map((r) => r.code) },
      after: { rule: BREAK_GLASS_RULE, breakGlass: entry.id },
    });
  }

  return {
    async decide(context) {
      const decided = await gate.decide(context);
      const { decision, entry } = override(context, decided);
      if (entry === undefined) return decision;
      await gate.vouch?.(context, { source: AllowanceSource.breakGlass(entry.id), expiresAt: entry.expires });
      await firstUse(context, decided, entry);
      return decision;
    },
    blobAccess: (canonicalName, digest) => gate.blobAccess(canonicalName, digest),
    ...(gate.explain === undefined
      ? {}
      : {
          explain: async (context: PullContext) => {
            const explained = await gate.explain!(context);
            const { decision, entry } = override(context, explained.decision);
            return entry === undefined ? explained : { ...explained, decision, overridden: explained.decision };
          },
        }),
    ...(gate.vouch === undefined
      ? {}
      : { vouch: (context: PullContext, grant: { readonly source: string; readonly expiresAt: number }) => gate.vouch!(context, grant) }),
  };
}
