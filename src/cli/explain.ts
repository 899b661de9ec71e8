import { printable } from '../oci/reference.ts';
import { parseFlags } from './args.ts';
import { EXPLAIN_USAGE } from './admin-usage.ts';
import { API_FLAGS, withApi } from './api-flags.ts';
import { help, onePositional, output, type Print } from './subcommands.ts';

interface DecisionView {
  outcome: string;
  rule: string;
  reasons: { code: string; message: string }[];
  signers: string[];
  notAfter?: string | null;
}

interface FindingView {
  source: string;
  countsFor?: string[];
  refusals?: { code: string; message: string }[];
  scheme: string;
  verifiedBy: string[];
  failure?: { kind: string; message: string };
  certificates?: {
    root: string;
    identity: { emails: string[]; uris: string[]; dnsNames: string[]; issuer?: string };
    signingTime: { source: string; at: string | null };
  }[];
  logEntries?: { root: string; logIndex: string; integratedTime: string | null; kind: string; promise: boolean; proof: boolean }[];
  logProblems?: { root?: string; message: string }[];
  timestamp?: { authority: string; at: string | null };
}

interface Explained extends DecisionView {
  image: string;
  digest: string | null;
  mediaType: string | null;
  findings?: FindingView[];
  scan?: {
    required: boolean;
    state: string;
    record?: { scanner: string; finishedAt: string | null; source: string; counts: Record<string, number> };
  } | null;
  overrides?: DecisionView;
}

/** trustgate explain <image>: why trustgate would serve or refuse an image, without pulling it. */
export async function explainCommand(args: readonly string[], print: Print, env: NodeJS.ProcessEnv): Promise<number> {
  const { values, positionals } = parseFlags(args, API_FLAGS);
  if (values.help) return help(print, EXPLAIN_USAGE);
  const image = onePositional(positionals, 'image (<registry host>/<repository>:<tag> or @<digest>)');
  const body = (await withApi(values, env, (api) => api.call({ method: 'GET', path: '/explain', query: { image } }))) as Explained;
  return output(print, values.json, body, () => describe(body));
}

const t = (text: string, max = 300): string => printable(text, max);

function decision(d: DecisionView): string[] {
  return [
    `${d.outcome === 'allow' ? 'allowed' : d.outcome === 'warn' ? 'allowed with a warning' : 'denied'} by rule "${t(d.rule)}"${d.notAfter ? ` (until ${d.notAfter})` : ''}`,
    ...d.reasons.map((r) => `  ${t(r.code)}: ${t(r.message, 500)}`),
    ...(d.signers.length === 0 ? [] : [`  signers: ${d.signers.map((s) => t(s)).join(', ')}`]),
  ];
}

/**
 * One signature: whether it verified, and for a keyless one the identity, the log entry (index and
 * integrated time) and the signing time; the rule's refusal of it, when there is one, is its reason.
 */
function finding(f: FindingView): string[] {
  const head = `  ${t(f.scheme)} ${t(f.source, 200)}`;
  if (f.failure !== undefined) return [`${head}: does not count: ${t(f.failure.kind)}: ${t(f.failure.message, 500)}`];
  const refused = f.refusals ?? [];
  const counts = f.countsFor ?? [];
  const verdict =
    counts.length === 0
      ? 'verified, but the rule does not count it:'
      : `counts (${counts.map((v) => t(v)).join(', ')})${refused.length === 0 ? '' : '; not for:'}`;
  return [
    `${head}: ${verdict}`,
    ...refused.map(
      (r) => `      ${t(r.code)}: ${t(r.message.startsWith(`${f.source}: `) ? r.message.slice(f.source.length + 2) : r.message, 500)}`,
    ),
    ...(f.certificates ?? []).map((c) => {
      const subject = [...c.identity.emails, ...c.identity.uris, ...c.identity.dnsNames].map((s) => t(s, 200)).join(', ');
      const issuer = c.identity.issuer === undefined ? '' : ` issuer ${t(c.identity.issuer, 200)}`;
      return `      certificate from "${t(c.root)}": ${subject}${issuer}; checked at ${c.signingTime.at ?? '?'} (${t(c.signingTime.source)})`;
    }),
    ...(f.logEntries ?? []).map(
      (l) =>
        `      log entry ${t(l.logIndex)} in "${t(l.root)}" at ${l.integratedTime ?? '?'} (${t(l.kind)}${l.promise ? ', promise' : ''}${l.proof ? ', proof' : ''})`,
    ),
    ...(f.logProblems ?? []).map((p) => `      log entry does not verify: ${t(p.message, 500)}`),
    ...(f.timestamp === undefined ? [] : [`      timestamped by "${t(f.timestamp.authority)}" at ${f.timestamp.at ?? '?'}`]),
  ];
}

function describe(e: Explained): string[] {
  const scan = e.scan;
  const counts =
    scan?.record === undefined
      ? ''
      : Object.entries(scan.record.counts)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ');
  return [
    `${t(e.image)}${e.digest === null ? '' : `  ${e.digest}`}${e.mediaType === null ? '' : `  (${t(e.mediaType)})`}`,
    ...decision(e),
    ...(e.overrides === undefined ? [] : ['the gate alone would have decided:', ...decision(e.overrides).map((l) => `  ${l}`)]),
    ...(e.findings === undefined || e.findings.length === 0 ? [] : ['signatures:', ...e.findings.flatMap((f) => finding(f))]),
    ...(scan === undefined || scan === null
      ? []
      : [
          `scan: ${t(scan.state)}${scan.required ? ' (required)' : ' (not required)'}${scan.record === undefined ? '' : `, by ${t(scan.record.scanner)} at ${scan.record.finishedAt ?? '?'} (${t(scan.record.source)})${counts === '' ? '' : `: ${counts}`}`}`,
        ]),
  ];
}
