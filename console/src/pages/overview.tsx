import type { JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { Api } from '../api.ts';
import { Field, Link, Problem } from '../components.tsx';
import { formatTime, relative } from '../format.ts';
import { href } from '../router.ts';
import type { Session } from '../session.ts';

// GET /admin/v1/overview (docs/console-api.md): pulls and denials over time by reason, the most
// denied images, the trust store's soonest expiry, active break glass, the scan queue. Every name
// and reason comes from outside and is rendered as text; the chart is SVG elements with numeric
// attributes (no style strings).

type Counts = Readonly<Record<string, number>>;
interface Bucket {
  readonly start: string;
  readonly allow: number;
  readonly warn: number;
  readonly deny: number;
  readonly reasons: { readonly allow: Counts; readonly warn: Counts; readonly deny: Counts };
}
interface Overview {
  readonly generatedAt: string;
  readonly decisions: {
    readonly from: string;
    readonly records: number;
    readonly complete: boolean;
    readonly hourly: readonly Bucket[];
    readonly fiveMinute: readonly Bucket[];
    readonly mostDenied: readonly { readonly name: string; readonly reason: string; readonly count: number }[];
  };
  readonly trustExpiry: readonly {
    readonly id: string;
    readonly kind: string;
    readonly notAfter: string;
    readonly by: string;
    readonly subject?: string;
  }[];
  readonly breakGlass: {
    readonly shared: boolean;
    readonly entries: readonly {
      readonly id: string;
      readonly image: string;
      readonly reason: string;
      readonly expires: string;
      readonly actor: string;
    }[];
  };
  readonly scanQueue: {
    readonly available: boolean;
    readonly depth?: number;
    readonly atLeast?: boolean;
    readonly oldestRequestedAt?: string | null;
  };
}
interface RecentDecision {
  readonly name: string;
  readonly reference: string;
  readonly digest: string;
}

export function OverviewPage(props: { api: Api; session: Session; params: URLSearchParams }): JSX.Element {
  const [overview, setOverview] = useState<Overview | undefined>(undefined);
  const [latest, setLatest] = useState<ReadonlyMap<string, string>>(new Map());
  const [error, setError] = useState<unknown>(undefined);
  const [span, setSpan] = useState<'hourly' | 'fiveMinute'>('hourly');

  useEffect(() => {
    let live = true;
    props.api.get<Overview>('/overview').then(
      (answer) => live && setOverview(answer),
      (e: unknown) => live && setError(e),
    );
    // The newest denied reference of each name, so "Explain" opens that exact digest's decision.
    props.api.get<{ decisions: readonly RecentDecision[] }>('/decisions/recent?outcome=deny&limit=200').then(
      (answer) => {
        const map = new Map<string, string>();
        for (const d of answer.decisions) if (!map.has(d.name)) map.set(d.name, `${d.name}@${d.digest}`);
        if (live) setLatest(map);
      },
      () => undefined, // the links fall back to the bare name
    );
    return () => {
      live = false;
    };
  }, []);

  return (
    <>
      <h1>Overview</h1>
      {error === undefined ? null : <Problem error={error} forbidden="read the overview" />}
      {overview === undefined ? (
        error === undefined ? (
          <p aria-live="polite">Loading…</p>
        ) : null
      ) : (
        <>
          <p class="help">
            As of {formatTime(overview.generatedAt)}, from {overview.decisions.records} decisions ({overview.decisions.from}).
            {overview.decisions.complete ? '' : ' The feed was full before 24 hours back: the oldest hours hold only part of their pulls.'}
          </p>
          <section aria-labelledby="pulls-heading">
            <h2 id="pulls-heading">Pulls and denials</h2>
            <div class="segmented" role="group" aria-label="Time span">
              <button type="button" class="secondary" aria-pressed={span === 'hourly'} onClick={() => setSpan('hourly')}>
                Last 24 hours
              </button>
              <button type="button" class="secondary" aria-pressed={span === 'fiveMinute'} onClick={() => setSpan('fiveMinute')}>
                Last hour
              </button>
            </div>
            <Chart buckets={span === 'hourly' ? overview.decisions.hourly : overview.decisions.fiveMinute} hourly={span === 'hourly'} />
          </section>
          <div class="tiles">
            <section aria-labelledby="denied-heading" class="tile wide">
              <h2 id="denied-heading">Most denied images</h2>
              <MostDenied entries={overview.decisions.mostDenied} latest={latest} />
            </section>
            <section aria-labelledby="expiry-heading" class="tile">
              <h2 id="expiry-heading">Trust store: soonest expiry</h2>
              <Expiry entries={overview.trustExpiry} />
            </section>
            <section aria-labelledby="bg-heading" class="tile">
              <h2 id="bg-heading">Active break glass</h2>
              <BreakGlass entries={overview.breakGlass.entries} />
            </section>
            <section aria-labelledby="queue-heading" class="tile">
              <h2 id="queue-heading">Scan queue</h2>
              <Queue queue={overview.scanQueue} />
            </section>
          </div>
        </>
      )}
    </>
  );
}

const OUTCOMES = ['allow', 'warn', 'deny'] as const;

/** The series shown: allow and warn by outcome, denials by their primary reason (up to 5 colours, then "other"). */
function series(buckets: readonly Bucket[]): { key: string; label: string; cls: string; value: (b: Bucket) => number }[] {
  const totals = new Map<string, number>();
  for (const b of buckets) for (const [reason, n] of Object.entries(b.reasons.deny)) totals.set(reason, (totals.get(reason) ?? 0) + n);
  const reasons = [...totals.entries()].sort((a, b) => b[1] - a[1]).map(([r]) => r);
  const shown = reasons.slice(0, 5);
  const out = [
    { key: 'allow', label: 'allowed', cls: 'bar-allow', value: (b: Bucket) => b.allow },
    { key: 'warn', label: 'warned', cls: 'bar-warn', value: (b: Bucket) => b.warn },
    ...shown.map((reason, i) => ({
      key: `deny:${reason}`,
      label: `denied: ${reason}`,
      cls: `bar-deny-${i}`,
      value: (b: Bucket) => b.reasons.deny[reason] ?? 0,
    })),
  ];
  if (reasons.length > shown.length)
    out.push({
      key: 'deny:other',
      label: 'denied: other reasons',
      cls: 'bar-deny-other',
      value: (b: Bucket) => b.deny - shown.reduce((n, r) => n + (b.reasons.deny[r] ?? 0), 0),
    });
  return out;
}

const WIDTH = 720;
const HEIGHT = 160;

function Chart(props: { buckets: readonly Bucket[]; hourly: boolean }): JSX.Element {
  const { buckets } = props;
  const lines = series(buckets);
  const max = Math.max(1, ...buckets.map((b) => OUTCOMES.reduce((n, o) => n + b[o], 0)));
  const slot = WIDTH / Math.max(1, buckets.length);
  const label = (b: Bucket): string => (props.hourly ? b.start.slice(11, 13) + ':00' : b.start.slice(11, 16));
  const total = buckets.reduce((n, b) => n + b.allow + b.warn + b.deny, 0);
  const denied = buckets.reduce((n, b) => n + b.deny, 0);
  return (
    <figure class="chart">
      <svg
        viewBox={`0 0 ${WIDTH} ${HEIGHT + 18}`}
        role="img"
        aria-label={`${total} pulls, ${denied} denied, ${props.hourly ? 'per hour over the last 24 hours' : 'per 5 minutes over the last hour'}`}
        data-testid="chart"
      >
        <line x1={0} x2={WIDTH} y1={HEIGHT} y2={HEIGHT} class="axis" />
        {buckets.map((b, i) => {
          let y = HEIGHT;
          return (
            <g key={b.start}>
              <title>{`${formatTime(b.start)}: ${b.allow} allowed, ${b.warn} warned, ${b.deny} denied`}</title>
              {lines.map((s) => {
                const n = s.value(b);
                if (n <= 0) return null;
                const h = (n / max) * (HEIGHT - 8);
                y -= h;
                return <rect key={s.key} class={s.cls} x={i * slot + 2} y={y} width={Math.max(1, slot - 4)} height={h} />;
              })}
              {i % (props.hourly ? 3 : 2) === 0 ? (
                <text x={i * slot + slot / 2} y={HEIGHT + 14} class="tick">
                  {label(b)}
                </text>
              ) : null}
            </g>
          );
        })}
      </svg>
      <figcaption>
        <ul class="legend">
          {lines.map((s) => (
            <li key={s.key}>
              <svg viewBox="0 0 10 10" class="swatch" aria-hidden="true">
                <rect class={s.cls} width={10} height={10} />
              </svg>
              {s.label}
            </li>
          ))}
        </ul>
        <details>
          <summary>The numbers</summary>
          <table>
            <thead>
              <tr>
                <th scope="col">From (UTC)</th>
                {lines.map((s) => (
                  <th scope="col" key={s.key}>
                    {s.label}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {buckets.map((b) => (
                <tr key={b.start}>
                  <td class="nowrap">{formatTime(b.start)}</td>
                  {lines.map((s) => (
                    <td key={s.key}>{s.value(b)}</td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </details>
      </figcaption>
    </figure>
  );
}

function MostDenied(props: { entries: Overview['decisions']['mostDenied']; latest: ReadonlyMap<string, string> }): JSX.Element {
  if (props.entries.length === 0) return <p>No pulls were denied in the last 24 hours.</p>;
  return (
    <table>
      <caption class="visually-hidden">Most denied images in the last 24 hours</caption>
      <thead>
        <tr>
          <th scope="col">Image</th>
          <th scope="col">Reason</th>
          <th scope="col">Denials</th>
        </tr>
      </thead>
      <tbody>
        {props.entries.map((e) => (
          <tr key={`${e.name} ${e.reason}`} data-testid="most-denied-row">
            <td>
              <Link href={href('/explain', { image: props.latest.get(e.name) ?? e.name })}>{e.name}</Link>
            </td>
            <td>
              <code>{e.reason}</code>
            </td>
            <td>{e.count}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Expiry(props: { entries: Overview['trustExpiry'] }): JSX.Element {
  const first = props.entries[0];
  if (first === undefined) return <p>No trust entry expires.</p>;
  return (
    <>
      <dl>
        <Field term="Entry">
          <code data-testid="soonest-expiry">{first.id}</code> ({first.kind})
        </Field>
        <Field term="Ends">
          {formatTime(first.notAfter)} ({relative(Date.parse(first.notAfter))})
        </Field>
        <Field term="By">
          {first.by === 'certificate' ? `its certificate${first.subject === undefined ? '' : ` ${first.subject}`}` : 'its validity window'}
        </Field>
      </dl>
      {props.entries.length > 1 ? (
        <p class="help">
          Then:{' '}
          {props.entries
            .slice(1, 4)
            .map((e) => `${e.id} (${formatTime(e.notAfter)})`)
            .join(', ')}
          {props.entries.length > 4 ? ', …' : ''}
        </p>
      ) : null}
    </>
  );
}

function BreakGlass(props: { entries: Overview['breakGlass']['entries'] }): JSX.Element {
  if (props.entries.length === 0) return <p>None: every pull goes through the policy.</p>;
  return (
    <ul class="plain">
      {props.entries.map((e) => (
        <li key={e.id}>
          <Link href={href('/breakglass')}>{e.image}</Link>: {e.reason} (until {formatTime(e.expires)}, {e.actor})
        </li>
      ))}
    </ul>
  );
}

function Queue(props: { queue: Overview['scanQueue'] }): JSX.Element {
  const { queue } = props;
  if (!queue.available) return <p>The scan store cannot be read.</p>;
  return (
    <dl>
      <Field term="Waiting">
        <span data-testid="queue-depth">{`${queue.depth ?? 0}${queue.atLeast ? '+' : ''}`}</span>
      </Field>
      <Field term="Oldest request">{queue.oldestRequestedAt ? `${formatTime(queue.oldestRequestedAt)}` : '—'}</Field>
    </dl>
  );
}
