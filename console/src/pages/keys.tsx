import type { JSX } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, type Api } from '../api.ts';
import { Problem } from '../components.tsx';
import { formatTime, relative } from '../format.ts';
import { holdsPrivateKey, privateKeyRefusal } from '../private-key.ts';
import { may } from '../roles.ts';
import type { Session } from '../session.ts';
import '../pages.css';

// /admin/v1/keys (docs/console-api.md, README "Who may do what"): the trust store's keys and roots
// for key-manager and auditor; add, revoke and rotate for key-manager (and admin) only. A pasted
// private key is refused here before anything is sent (private-key.ts); the server refuses it too.

interface Key {
  readonly id: string;
  readonly kind: string;
  readonly scopes: readonly string[];
  readonly purposes: readonly string[];
  readonly notBefore?: string;
  readonly notAfter?: string;
  readonly origin: string;
  readonly status: 'active' | 'revoked';
  readonly revokedAt?: string;
  readonly reason?: string;
  readonly fingerprint: string;
  readonly validNow: boolean;
}

interface KeyList {
  readonly version: number;
  readonly durable: boolean;
  readonly keys: readonly Key[];
  readonly revokedUnknown: readonly { id: string; revokedAt: string; reason: string }[];
}

const DAY = 86_400_000;

export function KeysPage(props: { api: Api; session: Session }): JSX.Element {
  const [list, setList] = useState<KeyList | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [done, setDone] = useState<string | undefined>(undefined);
  const canChange = may(props.session, 'keys.change');

  const load = async (): Promise<void> => {
    try {
      setList(await props.api.get<KeyList>('/keys'));
      setError(undefined);
    } catch (e) {
      setError(e);
    }
  };
  useEffect(() => {
    void load();
  }, []);
  const changed = (message: string): void => {
    setDone(message);
    void load();
  };

  return (
    <>
      <h1>Keys and roots</h1>
      <p>
        The public keys and certificate roots whose signatures count, each for its scopes and validity window. A revoked entry never counts
        again; a rotation adds the new key and keeps the old one only until the overlap ends.
      </p>
      {done === undefined ? null : (
        <p class="notice" role="status">
          {done}
        </p>
      )}
      <h2>Trusted keys and roots</h2>
      {error === undefined ? null : <Problem error={error} forbidden="list keys and roots" />}
      {list === undefined ? null : list.keys.length === 0 ? (
        <p>No keys or roots yet.</p>
      ) : (
        <KeyTable keys={list.keys} api={props.api} canChange={canChange} onChanged={changed} />
      )}
      {list !== undefined && list.revokedUnknown.length > 0 ? (
        <>
          <h3>Revoked before they were added</h3>
          <ul>
            {list.revokedUnknown.map((r) => (
              <li key={r.id}>
                <code>{r.id}</code>, {formatTime(r.revokedAt)}: {r.reason}
              </li>
            ))}
          </ul>
        </>
      ) : null}
      {list !== undefined && !list.durable ? (
        <p class="help">Without Redis, changes through the admin API are refused: keys come from the files in keys/ only.</p>
      ) : null}
      {canChange ? (
        <AddForm api={props.api} onAdded={(k) => changed(`Added ${k.id}.`)} />
      ) : (
        <p class="help">Your role may list keys and roots but not add, revoke or rotate them (that needs key-manager).</p>
      )}
    </>
  );
}

/** Where `ms` sits on the timeline, as a percentage from its start. */
const at = (ms: number, from: number, to: number): number => Math.min(100, Math.max(0, ((ms - from) / (to - from)) * 100));

function KeyTable(props: { keys: readonly Key[]; api: Api; canChange: boolean; onChanged: (message: string) => void }): JSX.Element {
  const now = Date.now();
  // The timeline spans every bounded window, and at least 30 days either side of now.
  const bounds = props.keys.flatMap((k) => [k.notBefore, k.notAfter].filter((t): t is string => t !== undefined).map((t) => Date.parse(t)));
  const from = Math.min(now - 30 * DAY, ...bounds);
  const to = Math.max(now + 30 * DAY, ...bounds);
  const [open, setOpen] = useState<{ id: string; action: 'revoke' | 'rotate' } | undefined>(undefined);
  return (
    <table class="keys">
      <caption class="visually-hidden">Trusted keys and roots</caption>
      <thead>
        <tr>
          <th scope="col">ID</th>
          <th scope="col">Status</th>
          <th scope="col">Scopes and purposes</th>
          <th scope="col">
            Validity ({formatTime(from).slice(0, 10)} to {formatTime(to).slice(0, 10)}; the line is now)
          </th>
          {props.canChange ? <th scope="col">Actions</th> : null}
        </tr>
      </thead>
      <tbody>
        {props.keys.map((k) => {
          const start = k.notBefore === undefined ? from : Date.parse(k.notBefore);
          const end = k.notAfter === undefined ? to : Date.parse(k.notAfter);
          return (
            <tr key={k.id} data-testid="key-row">
              <td>
                <code data-testid="key-id">{k.id}</code>
                <br />
                <span class="muted">
                  {k.kind}, {k.origin}
                </span>
                <br />
                <code class="fingerprint">{k.fingerprint}</code>
              </td>
              <td>
                <span
                  class={`status ${k.status === 'revoked' ? 'status-revoked' : k.validNow ? 'status-active' : 'status-idle'}`}
                  data-testid="key-status"
                >
                  {k.status}
                </span>
                {k.status === 'active' && !k.validNow ? <span class="muted"> (outside its window)</span> : null}
                {k.status === 'revoked' ? (
                  <p class="muted">
                    {formatTime(k.revokedAt)}: <span data-testid="key-reason">{k.reason}</span>
                  </p>
                ) : null}
              </td>
              <td>
                <ul class="plain">
                  {k.scopes.map((s) => (
                    <li key={s}>
                      <code>{s}</code>
                    </li>
                  ))}
                </ul>
                <span class="muted">{k.purposes.join(', ')}</span>
              </td>
              <td class="window">
                <div class="timeline" aria-hidden="true">
                  <div
                    class={`bar ${k.status === 'revoked' ? 'bar-revoked' : ''}`}
                    style={{ left: `${at(start, from, to)}%`, width: `${Math.max(0.5, at(end, from, to) - at(start, from, to))}%` }}
                  />
                  <div class="now" style={{ left: `${at(now, from, to)}%` }} />
                </div>
                <span class="muted">
                  {k.notBefore === undefined ? 'from always' : `from ${formatTime(k.notBefore)}`},{' '}
                  {k.notAfter === undefined ? 'no end' : `until ${formatTime(k.notAfter)} (${relative(Date.parse(k.notAfter), now)})`}
                </span>
              </td>
              {props.canChange ? (
                <td>
                  {k.status === 'active' ? (
                    <div class="actions">
                      <button
                        type="button"
                        class="danger"
                        aria-label={`Revoke ${k.id}`}
                        onClick={() => setOpen({ id: k.id, action: 'revoke' })}
                      >
                        Revoke
                      </button>
                      {k.kind !== 'sigstore-root' ? (
                        <button
                          type="button"
                          class="secondary"
                          aria-label={`Rotate ${k.id}`}
                          onClick={() => setOpen({ id: k.id, action: 'rotate' })}
                        >
                          Rotate
                        </button>
                      ) : null}
                    </div>
                  ) : null}
                  {open?.id === k.id && open.action === 'revoke' ? (
                    <RevokeForm
                      api={props.api}
                      id={k.id}
                      onCancel={() => setOpen(undefined)}
                      onDone={() => {
                        setOpen(undefined);
                        props.onChanged(`Revoked ${k.id}: its signatures no longer count, on every replica.`);
                      }}
                    />
                  ) : null}
                  {open?.id === k.id && open.action === 'rotate' ? (
                    <RotateForm
                      api={props.api}
                      keyEntry={k}
                      onCancel={() => setOpen(undefined)}
                      onDone={(newId, until) => {
                        setOpen(undefined);
                        props.onChanged(`Rotated ${k.id} to ${newId}; ${k.id} counts until ${formatTime(until)}.`);
                      }}
                    />
                  ) : null}
                </td>
              ) : null}
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

/** Revoke: a reason, and the id typed again, before the button does anything. */
function RevokeForm(props: { api: Api; id: string; onCancel: () => void; onDone: () => void }): JSX.Element {
  const [reason, setReason] = useState('');
  const [typed, setTyped] = useState('');
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const first = useRef<HTMLTextAreaElement>(null);
  useEffect(() => first.current?.focus(), []);
  const ready = reason.trim() !== '' && typed === props.id;
  const submit = async (event: Event): Promise<void> => {
    event.preventDefault();
    if (!ready) return;
    setBusy(true);
    try {
      await props.api.post(`/keys/${encodeURIComponent(props.id)}/revoke`, { reason: reason.trim() });
      props.onDone();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="stacked inline-form" onSubmit={(e) => void submit(e)} aria-label={`Revoke ${props.id}`}>
      <label for="revoke-reason">Reason (in the audit log)</label>
      <textarea
        id="revoke-reason"
        ref={first}
        rows={2}
        maxLength={1000}
        value={reason}
        onInput={(e) => setReason((e.target as HTMLTextAreaElement).value)}
      />
      <label for="revoke-confirm">Type {props.id} to confirm</label>
      <input
        id="revoke-confirm"
        type="text"
        spellcheck={false}
        autocomplete="off"
        value={typed}
        onInput={(e) => setTyped((e.target as HTMLInputElement).value)}
      />
      <p class="help">Revoking is for good: signatures by this key never count again, on every replica within a second.</p>
      {error === undefined ? null : <Problem error={error} forbidden="revoke keys" />}
      <div class="actions">
        <button type="submit" class="danger" disabled={!ready || busy}>
          Revoke for good
        </button>
        <button type="button" class="secondary" onClick={props.onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

/** A datetime-local value (local time, minutes) for epoch ms. */
function localInput(ms: number): string {
  return new Date(ms - new Date(ms).getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
}

function RotateForm(props: { api: Api; keyEntry: Key; onCancel: () => void; onDone: (newId: string, until: number) => void }): JSX.Element {
  const old = props.keyEntry;
  const limit = old.notAfter === undefined ? undefined : Date.parse(old.notAfter);
  const [newId, setNewId] = useState('');
  const [pem, setPem] = useState('');
  const [until, setUntil] = useState(() => localInput(Math.min(Date.now() + 7 * DAY, limit ?? Infinity)));
  const [problem, setProblem] = useState<string | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const first = useRef<HTMLInputElement>(null);
  useEffect(() => first.current?.focus(), []);
  const submit = async (event: Event): Promise<void> => {
    event.preventDefault();
    setError(undefined);
    const keepOldUntil = until === '' ? Number.NaN : new Date(until).getTime();
    const found =
      newId.trim() === ''
        ? 'Name the new key.'
        : pem.trim() === ''
          ? 'Paste the new public key.'
          : holdsPrivateKey(pem)
            ? privateKeyRefusal('The new key')
            : Number.isNaN(keepOldUntil) || keepOldUntil <= Date.now()
              ? 'The overlap must end in the future (to stop trusting the old key at once, revoke it).'
              : limit !== undefined && keepOldUntil > limit
                ? `The overlap may not end after ${old.id}'s own end, ${formatTime(limit)}: a rotation never extends a key.`
                : undefined;
    setProblem(found);
    if (found !== undefined) return;
    setBusy(true);
    try {
      await props.api.post(`/keys/${encodeURIComponent(old.id)}/rotate`, {
        newId: newId.trim(),
        pem,
        keepOldUntil: new Date(keepOldUntil).toISOString(),
      });
      props.onDone(newId.trim(), keepOldUntil);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="stacked inline-form" onSubmit={(e) => void submit(e)} aria-label={`Rotate ${old.id}`} noValidate>
      <label for="rotate-id">New key ID</label>
      <input
        id="rotate-id"
        ref={first}
        type="text"
        spellcheck={false}
        autocomplete="off"
        value={newId}
        onInput={(e) => setNewId((e.target as HTMLInputElement).value)}
      />
      <label for="rotate-pem">New public key (PEM)</label>
      <textarea id="rotate-pem" rows={5} spellcheck={false} value={pem} onInput={(e) => setPem((e.target as HTMLTextAreaElement).value)} />
      <label for="rotate-until">Keep {old.id} until (your local time)</label>
      <input id="rotate-until" type="datetime-local" value={until} onInput={(e) => setUntil((e.target as HTMLInputElement).value)} />
      <p class="help">The new key takes {old.id}&apos;s scopes and purposes; both count until the overlap ends.</p>
      {problem === undefined ? null : (
        <p class="problem" role="alert">
          {problem}
        </p>
      )}
      {error === undefined ? null : <Problem error={error} forbidden="rotate keys" />}
      <div class="actions">
        <button type="submit" disabled={busy}>
          Rotate
        </button>
        <button type="button" class="secondary" onClick={props.onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

function AddForm(props: { api: Api; onAdded: (key: Key) => void }): JSX.Element {
  const [id, setId] = useState('');
  const [kind, setKind] = useState<'key' | 'notation-root'>('key');
  const [pem, setPem] = useState('');
  const [scopes, setScopes] = useState('');
  const [sign, setSign] = useState(true);
  const [scan, setScan] = useState(false);
  const [notAfter, setNotAfter] = useState('');
  const [problem, setProblem] = useState<string | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);

  const submit = async (event: Event): Promise<void> => {
    event.preventDefault();
    setError(undefined);
    const scopeList = scopes
      .split('\n')
      .map((s) => s.trim())
      .filter((s) => s !== '');
    const purposes = [...(sign ? ['sign'] : []), ...(scan ? ['scan'] : [])];
    const fields: [string, string][] = [
      ['The key ID', id],
      ['The PEM', pem],
      ['The scopes', scopes],
    ];
    const leaking = fields.find(([, value]) => holdsPrivateKey(value));
    const end = notAfter === '' ? undefined : new Date(notAfter).getTime();
    const found =
      leaking !== undefined
        ? privateKeyRefusal(leaking[0])
        : id.trim() === ''
          ? 'Give the key an ID (lowercase letters, digits, ".", "_" or "-").'
          : pem.trim() === ''
            ? 'Paste the public key or root certificate (PEM).'
            : scopeList.length === 0
              ? 'Give at least one scope: an image pattern such as registry.example/team/**.'
              : purposes.length === 0
                ? 'Choose at least one purpose.'
                : end !== undefined && (Number.isNaN(end) || end <= Date.now())
                  ? 'The end of the window must be in the future.'
                  : undefined;
    setProblem(found);
    if (found !== undefined) {
      document.getElementById('problem-add')?.focus();
      return;
    }
    setBusy(true);
    try {
      const added = await props.api.post<Key>('/keys', {
        id: id.trim(),
        kind,
        pem,
        scopes: scopeList,
        purposes,
        ...(end === undefined ? {} : { notAfter: new Date(end).toISOString() }),
      });
      setId('');
      setPem('');
      props.onAdded(added);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="stacked" onSubmit={(e) => void submit(e)} noValidate aria-labelledby="add-heading">
      <h2 id="add-heading">Add a key or root</h2>
      <label for="key-id">Key ID</label>
      <input
        id="key-id"
        type="text"
        spellcheck={false}
        autocomplete="off"
        value={id}
        onInput={(e) => setId((e.target as HTMLInputElement).value)}
      />
      <label for="key-kind">Kind</label>
      <select id="key-kind" value={kind} onChange={(e) => setKind((e.target as HTMLSelectElement).value as 'key' | 'notation-root')}>
        <option value="key">key (cosign public key)</option>
        <option value="notation-root">notation-root (CA certificate)</option>
      </select>
      <label for="key-pem">Public key or certificate (PEM)</label>
      <textarea
        id="key-pem"
        rows={6}
        spellcheck={false}
        value={pem}
        aria-describedby="key-pem-help"
        onInput={(e) => setPem((e.target as HTMLTextAreaElement).value)}
      />
      <p id="key-pem-help" class="help">
        The public half only: a private key is refused here, before anything is sent, and by trustgate.
      </p>
      <label for="key-scopes">Scopes (one image pattern a line)</label>
      <textarea
        id="key-scopes"
        rows={2}
        spellcheck={false}
        value={scopes}
        onInput={(e) => setScopes((e.target as HTMLTextAreaElement).value)}
      />
      <fieldset>
        <legend>Purposes</legend>
        <label>
          <input type="checkbox" checked={sign} onChange={(e) => setSign((e.target as HTMLInputElement).checked)} /> sign (image signatures)
        </label>
        <label>
          <input type="checkbox" checked={scan} onChange={(e) => setScan((e.target as HTMLInputElement).checked)} /> scan (vulnerability
          attestations)
        </label>
      </fieldset>
      <label for="key-not-after">Valid until (optional, your local time)</label>
      <input id="key-not-after" type="datetime-local" value={notAfter} onInput={(e) => setNotAfter((e.target as HTMLInputElement).value)} />
      {problem === undefined ? null : (
        <p id="problem-add" class="problem" role="alert" tabIndex={-1} data-testid="add-problem">
          {problem}
        </p>
      )}
      {error === undefined ? null : error instanceof ApiError && error.problem === 'invalid' ? (
        <p class="problem" role="alert">
          trustgate refused it: {error.message}
        </p>
      ) : (
        <Problem error={error} forbidden="add keys" />
      )}
      <button type="submit" disabled={busy}>
        Add
      </button>
    </form>
  );
}
