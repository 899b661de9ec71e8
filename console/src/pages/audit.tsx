import type { JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { Api } from '../api.ts';
import { Problem } from '../components.tsx';
import { formatTime } from '../format.ts';
import { href, navigate } from '../router.ts';
import type { Session } from '../session.ts';

// GET /admin/v1/audit (docs/console-api.md): filtered by actor, action, target, outcome and time,
// paged by `next`; the filters live in the URL, so a filtered view can be linked to. Export is the
// `format=json` download, fetched with the bearer header and saved through a Blob URL.

interface Entry {
  readonly id: string;
  readonly time: string;
  readonly actor: string;
  readonly roles: readonly string[];
  readonly action: string;
  readonly target: string;
  readonly outcome: string;
  readonly message?: string;
  readonly requestId?: string;
}
interface Page {
  readonly entries: readonly Entry[];
  readonly next?: string;
}

const TEXT_FILTERS = ['actor', 'action', 'target'] as const;
const FILTERS = [...TEXT_FILTERS, 'outcome', 'since', 'until'] as const;
type Filters = Partial<Record<(typeof FILTERS)[number], string>>;

function filtersOf(params: URLSearchParams): Filters {
  const out: Filters = {};
  for (const f of FILTERS) {
    const v = params.get(f);
    if (v !== null && v !== '') out[f] = v;
  }
  return out;
}

/** datetime-local (the browser's local time) ↔ RFC 3339. */
function toInput(iso: string | undefined): string {
  if (iso === undefined) return '';
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return '';
  return new Date(ms - new Date(ms).getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
}
function fromInput(local: string): string | undefined {
  const ms = local === '' ? Number.NaN : new Date(local).getTime();
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

export function AuditPage(props: { api: Api; session: Session; params: URLSearchParams }): JSX.Element {
  const filters = filtersOf(props.params);
  const key = new URLSearchParams(filters as Record<string, string>).toString();
  const [form, setForm] = useState<Filters>(filters);
  const [entries, setEntries] = useState<readonly Entry[] | undefined>(undefined);
  const [next, setNext] = useState<string | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const [exported, setExported] = useState<string | undefined>(undefined);

  const load = async (after: string | undefined): Promise<void> => {
    setBusy(true);
    try {
      const query = new URLSearchParams({ ...(filters as Record<string, string>), limit: '50', ...(after === undefined ? {} : { after }) });
      const page = await props.api.get<Page>(`/audit?${query.toString()}`);
      setEntries((before) => (after === undefined || before === undefined ? page.entries : [...before, ...page.entries]));
      setNext(page.next);
      setError(undefined);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  useEffect(() => {
    setForm(filters);
    setEntries(undefined);
    void load(undefined);
  }, [key]);

  const submit = (event: Event): void => {
    event.preventDefault();
    const wanted: Record<string, string> = {};
    for (const f of TEXT_FILTERS) {
      const v = form[f]?.trim();
      if (v) wanted[f] = v;
    }
    if (form.outcome) wanted['outcome'] = form.outcome;
    if (form.since) wanted['since'] = form.since;
    if (form.until) wanted['until'] = form.until;
    navigate(href('/audit', wanted));
  };

  const exportJson = async (): Promise<void> => {
    setExported(undefined);
    try {
      const query = new URLSearchParams({ ...(filters as Record<string, string>), format: 'json', limit: '10000' });
      const { blob, filename } = await props.api.download(`/audit?${query.toString()}`);
      const url = URL.createObjectURL(blob);
      const a = document.createElement('a');
      a.href = url;
      a.download = filename ?? 'trustgate-audit.json';
      document.body.appendChild(a);
      a.click();
      a.remove();
      window.setTimeout(() => URL.revokeObjectURL(url), 10_000);
      setExported(`Saved ${a.download}.`);
    } catch (e) {
      setError(e);
    }
  };

  const set = (field: keyof Filters, value: string): void => setForm((f) => ({ ...f, [field]: value }));
  return (
    <>
      <h1>Audit log</h1>
      <p>Every admin change and refusal: who, which action, on what, with what outcome.</p>
      <form class="filters" onSubmit={submit} role="search" aria-label="Filter the audit log">
        <div class="field">
          <label for="audit-actor">Actor</label>
          <input
            id="audit-actor"
            type="text"
            autocomplete="off"
            spellcheck={false}
            value={form.actor ?? ''}
            onInput={(e) => set('actor', (e.target as HTMLInputElement).value)}
          />
        </div>
        <div class="field">
          <label for="audit-action">Action</label>
          <input
            id="audit-action"
            type="text"
            autocomplete="off"
            spellcheck={false}
            placeholder="breakglass.add or key.*"
            value={form.action ?? ''}
            onInput={(e) => set('action', (e.target as HTMLInputElement).value)}
          />
        </div>
        <div class="field">
          <label for="audit-target">Target</label>
          <input
            id="audit-target"
            type="text"
            autocomplete="off"
            spellcheck={false}
            value={form.target ?? ''}
            onInput={(e) => set('target', (e.target as HTMLInputElement).value)}
          />
        </div>
        <div class="field">
          <label for="audit-outcome">Outcome</label>
          <select id="audit-outcome" value={form.outcome ?? ''} onChange={(e) => set('outcome', (e.target as HTMLSelectElement).value)}>
            <option value="">any</option>
            <option value="ok">ok</option>
            <option value="denied">denied</option>
            <option value="error">error</option>
          </select>
        </div>
        <div class="field">
          <label for="audit-since">From (your local time)</label>
          <input
            id="audit-since"
            type="datetime-local"
            value={toInput(form.since)}
            onInput={(e) => set('since', fromInput((e.target as HTMLInputElement).value) ?? '')}
          />
        </div>
        <div class="field">
          <label for="audit-until">Until (your local time)</label>
          <input
            id="audit-until"
            type="datetime-local"
            value={toInput(form.until)}
            onInput={(e) => set('until', fromInput((e.target as HTMLInputElement).value) ?? '')}
          />
        </div>
        <div class="actions">
          <button type="submit">Filter</button>
          <button type="button" class="secondary" onClick={() => void exportJson()}>
            Export JSON
          </button>
        </div>
      </form>
      {exported === undefined ? null : (
        <p class="notice" role="status">
          {exported}
        </p>
      )}
      {error === undefined ? null : <Problem error={error} forbidden="read the audit log" />}
      <section aria-live="polite" aria-busy={busy}>
        {entries === undefined ? null : entries.length === 0 ? (
          <p>No audit entries match.</p>
        ) : (
          <table>
            <caption class="visually-hidden">Audit entries, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Actor</th>
                <th scope="col">Action</th>
                <th scope="col">Target</th>
                <th scope="col">Outcome</th>
                <th scope="col">Message</th>
              </tr>
            </thead>
            <tbody>
              {entries.map((e) => (
                <tr key={e.id} data-testid="audit-row">
                  <td class="nowrap">{formatTime(e.time)}</td>
                  <td>
                    {e.actor}
                    {e.roles.length === 0 ? null : <span class="help"> ({e.roles.join(', ')})</span>}
                  </td>
                  <td>
                    <code data-testid="audit-action">{e.action}</code>
                  </td>
                  <td>{e.target}</td>
                  <td>{e.outcome}</td>
                  <td>{e.message ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      {next === undefined ? null : (
        <button type="button" class="secondary" disabled={busy} onClick={() => void load(next)}>
          Show older entries
        </button>
      )}
    </>
  );
}
