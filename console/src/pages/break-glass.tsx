import type { JSX } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, type Api } from '../api.ts';
import { Link, Problem } from '../components.tsx';
import { formatTime, relative } from '../format.ts';
import { may } from '../roles.ts';
import { href } from '../router.ts';
import type { Session } from '../session.ts';

// /admin/v1/breakglass (README "Break glass"): list for key-manager and auditor; open and end for
// key-manager (and admin) only, so an auditor is not offered either.

interface Entry {
  readonly id: string;
  readonly image: string;
  readonly reason: string;
  readonly expires: string;
  readonly actor: string;
  readonly createdAt: string;
}

const MAX_AHEAD_MS = 7 * 86_400_000;
const MAX_REASON = 500;

export function BreakGlassPage(props: { api: Api; session: Session; params: URLSearchParams }): JSX.Element {
  const [entries, setEntries] = useState<{ shared: boolean; entries: readonly Entry[] } | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [done, setDone] = useState<string | undefined>(undefined);
  const canChange = may(props.session, 'breakglass.change');

  const load = async (): Promise<void> => {
    try {
      setEntries(await props.api.get('/breakglass'));
      setError(undefined);
    } catch (e) {
      setError(e);
    }
  };
  useEffect(() => {
    void load();
  }, []);

  return (
    <>
      <h1>Break glass</h1>
      <p>
        An exception to the policy for one image or a pattern, with a reason, until it expires (at most 7 days) or is ended. Pulls it lets
        through are logged and audited.
      </p>
      {done === undefined ? null : (
        <p class="notice" role="status">
          {done}
        </p>
      )}
      {canChange ? (
        <OpenForm
          api={props.api}
          initialImage={props.params.get('image') ?? ''}
          onOpened={(entry) => {
            setDone(`Opened ${entry.id} for ${entry.image} until ${formatTime(entry.expires)}.`);
            void load();
          }}
        />
      ) : (
        <p class="help">Your role may list break-glass entries but not open or end them (that needs key-manager).</p>
      )}
      <h2>Active entries</h2>
      {error === undefined ? null : <Problem error={error} forbidden="list break-glass entries" />}
      {entries === undefined ? null : entries.entries.length === 0 ? (
        <p>No active break-glass entries.</p>
      ) : (
        <EntryTable
          entries={entries.entries}
          api={props.api}
          canChange={canChange}
          onEnded={(id) => {
            setDone(`Ended ${id}: pulls it let through are refused again.`);
            void load();
          }}
        />
      )}
      {entries !== undefined && !entries.shared ? (
        <p class="help">Without Redis, each replica has its own entries: this list is this replica&apos;s.</p>
      ) : null}
    </>
  );
}

function EntryTable(props: { entries: readonly Entry[]; api: Api; canChange: boolean; onEnded: (id: string) => void }): JSX.Element {
  const now = Date.now();
  return (
    <table>
      <caption class="visually-hidden">Active break-glass entries</caption>
      <thead>
        <tr>
          <th scope="col">ID</th>
          <th scope="col">Image</th>
          <th scope="col">Reason</th>
          <th scope="col">Expires</th>
          <th scope="col">Opened by</th>
          {props.canChange ? <th scope="col">Actions</th> : null}
        </tr>
      </thead>
      <tbody>
        {props.entries.map((e) => (
          <tr key={e.id} data-testid="breakglass-row">
            <td class="nowrap">
              <code>{e.id}</code>
            </td>
            <td>
              <Link href={href('/explain', { image: e.image })}>{e.image}</Link>
            </td>
            <td>{e.reason}</td>
            <td>
              {formatTime(e.expires)} ({relative(Date.parse(e.expires), now)})
            </td>
            <td>
              {e.actor}, {formatTime(e.createdAt)}
            </td>
            {props.canChange ? (
              <td class="nowrap">
                <EndButton entry={e} api={props.api} onEnded={props.onEnded} />
              </td>
            ) : null}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** End, then confirm: two deliberate steps, keyboard focus moving to the confirmation. */
function EndButton(props: { entry: Entry; api: Api; onEnded: (id: string) => void }): JSX.Element {
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const confirm = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (confirming) confirm.current?.focus();
  }, [confirming]);
  const end = async (): Promise<void> => {
    try {
      await props.api.del(`/breakglass/${encodeURIComponent(props.entry.id)}`);
      props.onEnded(props.entry.id);
    } catch (e) {
      setError(e);
    }
  };
  if (!confirming)
    return (
      <button type="button" class="danger" onClick={() => setConfirming(true)} aria-label={`End ${props.entry.id}`}>
        End
      </button>
    );
  return (
    <div class="confirm" role="group" aria-label={`Confirm ending ${props.entry.id}`}>
      <span>End {props.entry.id}? Pulls it lets through are refused at once.</span>
      <button type="button" class="danger" ref={confirm} onClick={() => void end()}>
        Confirm end
      </button>
      <button type="button" class="secondary" onClick={() => setConfirming(false)}>
        Cancel
      </button>
      {error === undefined ? null : <Problem error={error} forbidden="end break glass" />}
    </div>
  );
}

/** A datetime-local value (local time, minutes) for epoch ms. */
function localInput(ms: number): string {
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
  return d.toISOString().slice(0, 16);
}

interface Problems {
  image?: string;
  reason?: string;
  expires?: string;
}

/** The form's own checks, the server's rules (break-glass-routes.ts): a server refusal is shown too. */
export function checkOpen(image: string, reason: string, expires: string, now: number): Problems {
  const problems: Problems = {};
  if (image.trim() === '') problems.image = 'Name the image: a pattern over canonical names, or <name>@<digest>.';
  if (reason.trim() === '') problems.reason = 'Say why the policy is bypassed (an incident or ticket).';
  else if (reason.length > MAX_REASON) problems.reason = `At most ${MAX_REASON} characters.`;
  const at = expires === '' ? Number.NaN : new Date(expires).getTime();
  if (Number.isNaN(at)) problems.expires = 'Choose when it ends.';
  else if (at <= now) problems.expires = 'The expiry must be in the future.';
  else if (at > now + MAX_AHEAD_MS) problems.expires = 'The expiry must be at most 7 days ahead.';
  return problems;
}

function OpenForm(props: { api: Api; initialImage: string; onOpened: (entry: Entry) => void }): JSX.Element {
  const [image, setImage] = useState(props.initialImage);
  const [reason, setReason] = useState('');
  const [expires, setExpires] = useState(() => localInput(Date.now() + 4 * 3_600_000));
  const [problems, setProblems] = useState<Problems>({});
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  useEffect(() => setImage(props.initialImage), [props.initialImage]);

  const submit = async (event: Event): Promise<void> => {
    event.preventDefault();
    const now = Date.now();
    const found = checkOpen(image, reason, expires, now);
    setProblems(found);
    setError(undefined);
    if (Object.keys(found).length > 0) {
      const first = Object.keys(found)[0];
      document.getElementById(`bg-${first}`)?.focus();
      return;
    }
    setBusy(true);
    try {
      const entry = await props.api.post<Entry>('/breakglass', {
        image: image.trim(),
        reason: reason.trim(),
        expires: new Date(expires).toISOString(),
      });
      setReason('');
      props.onOpened(entry);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const now = Date.now();
  return (
    <form class="stacked" onSubmit={(e) => void submit(e)} noValidate aria-labelledby="open-heading">
      <h2 id="open-heading">Open break glass</h2>
      <FormField
        id="bg-image"
        label="Image"
        problem={problems.image}
        help="registry.example/team/app@sha256:… or a pattern such as registry.example/team/**"
      >
        <input
          id="bg-image"
          type="text"
          spellcheck={false}
          autocomplete="off"
          value={image}
          onInput={(e) => setImage((e.target as HTMLInputElement).value)}
          {...invalid('bg-image', problems.image)}
        />
      </FormField>
      <FormField id="bg-reason" label="Reason" problem={problems.reason} help="Shown in the audit log and on every pull it lets through.">
        <textarea
          id="bg-reason"
          rows={2}
          maxLength={MAX_REASON}
          value={reason}
          onInput={(e) => setReason((e.target as HTMLTextAreaElement).value)}
          {...invalid('bg-reason', problems.reason)}
        />
      </FormField>
      <FormField id="bg-expires" label="Expires (your local time)" problem={problems.expires} help="At most 7 days ahead.">
        <input
          id="bg-expires"
          type="datetime-local"
          min={localInput(now)}
          max={localInput(now + MAX_AHEAD_MS)}
          value={expires}
          onInput={(e) => setExpires((e.target as HTMLInputElement).value)}
          {...invalid('bg-expires', problems.expires)}
        />
      </FormField>
      {error === undefined ? null : error instanceof ApiError && error.problem === 'invalid' ? (
        <p class="problem" role="alert">
          trustgate refused it: {error.message}
        </p>
      ) : (
        <Problem error={error} forbidden="open break glass" />
      )}
      <button type="submit" disabled={busy}>
        Open break glass
      </button>
    </form>
  );
}

function invalid(id: string, problem: string | undefined): Record<string, string | boolean> {
  return { 'aria-invalid': problem !== undefined, 'aria-describedby': problem === undefined ? `${id}-help` : `${id}-help ${id}-problem` };
}

function FormField(props: { id: string; label: string; help: string; problem: string | undefined; children: JSX.Element }): JSX.Element {
  return (
    <div class="field">
      <label for={props.id}>{props.label}</label>
      {props.children}
      <p id={`${props.id}-help`} class="help">
        {props.help}
      </p>
      {props.problem === undefined ? null : (
        <p id={`${props.id}-problem`} class="problem">
          {props.problem}
        </p>
      )}
    </div>
  );
}
