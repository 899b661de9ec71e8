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

interface Explained extends DecisionView {
  image: string;
  digest: string | null;
  mediaType: string | null;
  findings?: { source: string; scheme: string; verifiedBy: string[]; failure?: { kind: string; message: string } }[];
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
    ...(e.findings === undefined || e.findings.length === 0
      ? []
      : [
          'signatures:',
          ...e.findings.map(
            (f) =>
              `  ${t(f.scheme)} ${t(f.source, 200)}: ${f.failure === undefined ? `counts (${f.verifiedBy.join(', ')})` : `does not count: ${t(f.failure.kind)}: ${t(f.failure.message, 500)}`}`,
          ),
        ]),
    ...(scan === undefined || scan === null
      ? []
      : [
          `scan: ${t(scan.state)}${scan.required ? ' (required)' : ' (not required)'}${scan.record === undefined ? '' : `, by ${t(scan.record.scanner)} at ${scan.record.finishedAt ?? '?'} (${t(scan.record.source)})${counts === '' ? '' : `: ${counts}`}`}`,
        ]),
  ];
}
