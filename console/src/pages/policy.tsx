import type { JSX } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, type Api } from '../api.ts';
import { Problem } from '../components.tsx';
import { diffLines, lineOffset, type DiffLine } from '../diff.ts';
import { formatTime } from '../format.ts';
import { holdsPrivateKey, privateKeyRefusal } from '../private-key.ts';
import { may } from '../roles.ts';
import type { Session } from '../session.ts';
import '../pages.css';

// /admin/v1/policy (docs/console-api.md "Policy"): the active YAML, validate, a line diff against
// the active text before apply, history and rollback. Reading and validating: key-manager and
// auditor; apply and rollback: an unscoped key-manager (and admin).

interface ActivePolicy {
  readonly source: string;
  readonly hash: string;
  readonly version: number | null;
  readonly text: string | null;
  readonly rules: number;
  readonly appliedBy?: string;
  readonly appliedAt?: string;
}

interface PolicyError {
  readonly field: string;
  readonly message: string;
  readonly line: number | null;
}

interface History {
  readonly durable: boolean;
  readonly activeVersion: number | null;
  readonly versions: readonly { version: number; hash: string; actor: string; time: string; previous: number | null; active: boolean }[];
}

const YAML = 'application/yaml';

/** The lined errors of a policy route's 400, or undefined when the answer is another refusal. */
function policyErrors(error: unknown): PolicyError[] | undefined {
  if (!(error instanceof ApiError) || error.status !== 400) return undefined;
  const errors = (error.answer as { errors?: unknown } | undefined)?.errors;
  if (!Array.isArray(errors) || !errors.every((e) => typeof e === 'object' && e !== null && 'line' in e)) return undefined;
  return (errors as Record<string, unknown>[]).map((e) => ({
    field: typeof e['field'] === 'string' ? e['field'] : '',
    message: typeof e['message'] === 'string' ? e['message'] : '',
    line: typeof e['line'] === 'number' ? e['line'] : null,
  }));
}

export function PolicyPage(props: { api: Api; session: Session }): JSX.Element {
  const [active, setActive] = useState<ActivePolicy | undefined>(undefined);
  const [history, setHistory] = useState<History | undefined>(undefined);
  const [text, setText] = useState('');
  const [loadError, setLoadError] = useState<unknown>(undefined);
  const [result, setResult] = useState<{ kind: 'ok' | 'errors' | 'refused'; message?: string; errors?: PolicyError[]; error?: unknown }>();
  const [review, setReview] = useState<DiffLine[] | undefined>(undefined);
  const [done, setDone] = useState<string | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const editor = useRef<HTMLTextAreaElement>(null);
  const canChange = may(props.session, 'policy.change');

  const load = async (replaceText: boolean): Promise<void> => {
    try {
      const [policy, versions] = await Promise.all([props.api.get<ActivePolicy>('/policy'), props.api.get<History>('/policy/history')]);
      setActive(policy);
      setHistory(versions);
      if (replaceText) setText(policy.text ?? '');
      setLoadError(undefined);
    } catch (e) {
      setLoadError(e);
    }
  };
  useEffect(() => {
    void load(true);
  }, []);

  /** The text may be sent: no private key in it (trustgate refuses one too). */
  const sendable = (): boolean => {
    if (!holdsPrivateKey(text)) return true;
    setResult({ kind: 'refused', message: privateKeyRefusal('The policy') });
    return false;
  };
  const failed = (e: unknown): void => {
    const errors = policyErrors(e);
    setResult(errors === undefined ? { kind: 'refused', error: e } : { kind: 'errors', errors });
  };

  const validate = async (): Promise<void> => {
    setDone(undefined);
    setReview(undefined);
    if (!sendable()) return;
    setBusy(true);
    try {
      const ok = await props.api.text<{ hash: string; rules: number }>('POST', '/policy/validate', text, YAML);
      setResult({ kind: 'ok', message: `Valid: ${ok.rules} ${ok.rules === 1 ? 'rule' : 'rules'}, hash ${ok.hash}.` });
    } catch (e) {
      failed(e);
    } finally {
      setBusy(false);
    }
  };

  const apply = async (): Promise<void> => {
    if (!sendable()) return;
    setBusy(true);
    try {
      const applied = await props.api.text<{ hash: string; version: number }>('PUT', '/policy', text, YAML);
      setReview(undefined);
      setResult(undefined);
      setDone(`Applied version ${applied.version} (hash ${applied.hash}) on every replica.`);
      await load(true);
    } catch (e) {
      setReview(undefined);
      failed(e);
    } finally {
      setBusy(false);
    }
  };

  const rollback = async (): Promise<void> => {
    setBusy(true);
    try {
      const back = await props.api.post<{ version: number; rolledBackFrom: number; hash: string }>('/policy/rollback', {});
      setResult(undefined);
      setDone(`Rolled back from version ${back.rolledBackFrom} to version ${back.version} (hash ${back.hash}).`);
      await load(true);
    } catch (e) {
      setResult({ kind: 'refused', error: e });
    } finally {
      setBusy(false);
    }
  };

  /** Moves the editor's caret to the start of 1-based `line`. */
  const goToLine = (line: number): void => {
    const area = editor.current;
    if (area === null) return;
    const offset = lineOffset(area.value, line);
    area.focus();
    area.setSelectionRange(offset, offset);
  };

  const changed = active !== undefined && text !== (active.text ?? '');
  return (
    <>
      <h1>Policy</h1>
      {loadError === undefined ? null : <Problem error={loadError} forbidden="read the policy" />}
      {active === undefined ? null : (
        <p data-testid="policy-active">
          Active: {active.source === 'api' ? `version ${active.version ?? '?'} through the admin API` : `the ${active.source}`},{' '}
          {active.rules} {active.rules === 1 ? 'rule' : 'rules'}, hash <code data-testid="policy-hash">{active.hash}</code>
          {active.appliedBy === undefined ? null : `, applied by ${active.appliedBy} ${formatTime(active.appliedAt)}`}.
        </p>
      )}
      {done === undefined ? null : (
        <p class="notice" role="status">
          {done}
        </p>
      )}
      <div class="field">
        <label for="policy-text">Policy YAML</label>
        <textarea
          id="policy-text"
          class="policy"
          ref={editor}
          spellcheck={false}
          autocomplete="off"
          value={text}
          aria-describedby="policy-help"
          onInput={(e) => {
            setText((e.target as HTMLTextAreaElement).value);
            setReview(undefined);
          }}
        />
        <p id="policy-help" class="help">
          {canChange
            ? 'Edit, validate, review the changes against the active policy, then apply it on every replica.'
            : 'Your role may read and validate the policy but not apply or roll it back (that needs an unscoped key-manager).'}
        </p>
      </div>
      <div class="actions">
        <button type="button" disabled={busy} onClick={() => void validate()}>
          Validate
        </button>
        {canChange ? (
          <button
            type="button"
            class="secondary"
            disabled={busy || !changed}
            onClick={() => {
              setDone(undefined);
              setResult(undefined);
              setReview(diffLines(active?.text ?? '', text));
            }}
          >
            Review changes
          </button>
        ) : null}
      </div>
      <section aria-live="polite">
        {result?.kind === 'ok' ? (
          <p class="notice" data-testid="policy-valid">
            {result.message}
          </p>
        ) : null}
        {result?.kind === 'errors' ? (
          <div class="problem" role="alert">
            <p>trustgate refused the policy:</p>
            <ul class="errors" data-testid="policy-errors">
              {(result.errors ?? []).map((e, i) => {
                const words = `${e.field === '' ? '' : `${e.field}: `}${e.message}`;
                return (
                  <li key={i}>
                    {e.line === null ? (
                      words
                    ) : (
                      <button type="button" onClick={() => goToLine(e.line!)}>
                        Line {e.line}: {words}
                      </button>
                    )}
                  </li>
                );
              })}
            </ul>
          </div>
        ) : null}
        {result?.kind === 'refused' ? (
          result.error === undefined ? (
            <p class="problem" role="alert">
              {result.message}
            </p>
          ) : (
            <Problem error={result.error} forbidden="apply or roll back the policy" />
          )
        ) : null}
      </section>
      {review === undefined ? null : (
        <section aria-labelledby="review-heading">
          <h2 id="review-heading">Changes against the active policy</h2>
          <p class="help">
            {review.filter((l) => l.kind === 'added').length} lines added, {review.filter((l) => l.kind === 'removed').length} removed.
          </p>
          <pre class="diff" data-testid="policy-diff" tabIndex={0} aria-label="Line diff">
            {review.map((l, i) => (
              <span key={i} class={l.kind}>
                {l.kind === 'added' ? '+ ' : l.kind === 'removed' ? '- ' : '  '}
                {l.text}
              </span>
            ))}
          </pre>
          <div class="actions">
            <button type="button" disabled={busy} onClick={() => void apply()}>
              Apply this policy
            </button>
            <button type="button" class="secondary" onClick={() => setReview(undefined)}>
              Cancel
            </button>
          </div>
        </section>
      )}
      <h2>History</h2>
      {history === undefined ? null : !history.durable ? (
        <p>Without Redis there is no history: the policy file is the policy.</p>
      ) : history.versions.length === 0 ? (
        <p>No policy was applied through the admin API yet: the policy file is active.</p>
      ) : (
        <>
          <table>
            <caption class="visually-hidden">Policy versions applied through the admin API</caption>
            <thead>
              <tr>
                <th scope="col">Version</th>
                <th scope="col">Hash</th>
                <th scope="col">Applied by</th>
                <th scope="col">Rolls back to</th>
              </tr>
            </thead>
            <tbody>
              {history.versions.map((v) => (
                <tr key={v.version} data-testid="policy-version">
                  <td>
                    {v.version}
                    {v.active ? ' (active)' : ''}
                  </td>
                  <td>
                    <code>{v.hash}</code>
                  </td>
                  <td>
                    {v.actor}, {formatTime(v.time)}
                  </td>
                  <td>{v.previous ?? 'none'}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {canChange ? <RollbackButton busy={busy} onConfirm={() => void rollback()} /> : null}
        </>
      )}
    </>
  );
}

function RollbackButton(props: { busy: boolean; onConfirm: () => void }): JSX.Element {
  const [confirming, setConfirming] = useState(false);
  const confirm = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (confirming) confirm.current?.focus();
  }, [confirming]);
  if (!confirming)
    return (
      <div class="actions">
        <button type="button" class="secondary" onClick={() => setConfirming(true)}>
          Roll back
        </button>
      </div>
    );
  return (
    <div class="confirm actions" role="group" aria-label="Confirm rollback">
      <span>Return every replica to the version before the active one?</span>
      <button
        type="button"
        class="danger"
        ref={confirm}
        disabled={props.busy}
        onClick={() => {
          setConfirming(false);
          props.onConfirm();
        }}
      >
        Confirm rollback
      </button>
      <button type="button" class="secondary" onClick={() => setConfirming(false)}>
        Cancel
      </button>
    </div>
  );
}
