import type { JSX } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Api } from '../api.ts';
import { Field, Link, Problem } from '../components.tsx';
import { formatTime } from '../format.ts';
import { may } from '../roles.ts';
import { href, navigate } from '../router.ts';
import type { Session } from '../session.ts';

// GET /admin/v1/explain?image=…: the decision a pull would get, every signature looked at, the
// scan state (README "Explain"). Every string here comes from outside (image names, reasons,
// certificate identities) and is rendered as text.

interface Reason {
  readonly code: string;
  readonly message: string;
}
interface DecisionView {
  readonly outcome: 'allow' | 'deny';
  readonly rule: string;
  readonly reasons: readonly Reason[];
  readonly signers: readonly string[];
  readonly notAfter: string | null;
}
interface Finding {
  readonly source: string;
  readonly scheme: string;
  readonly verifiedBy: readonly string[];
  readonly countsFor: readonly string[];
  readonly refusals?: readonly unknown[];
  readonly failure?: { readonly kind: string; readonly message: string };
  readonly signerSubject?: string;
  readonly certificates?: readonly { readonly root: string; readonly identity: unknown }[];
}
interface Explanation extends DecisionView {
  readonly image: string;
  readonly digest: string | null;
  readonly mediaType: string | null;
  readonly findings: readonly Finding[];
  readonly scan: {
    readonly required: boolean;
    readonly state: string;
    readonly record?: { readonly scanner: string; readonly finishedAt: string | null; readonly counts: Record<string, number> };
  } | null;
  readonly overrides?: DecisionView;
}

type State =
  | { readonly kind: 'idle' }
  | { readonly kind: 'loading'; readonly image: string }
  | { readonly kind: 'done'; readonly answer: Explanation }
  | { readonly kind: 'failed'; readonly image: string; readonly error: unknown };

export function ExplainPage(props: { api: Api; session: Session; params: URLSearchParams }): JSX.Element {
  const asked = props.params.get('image') ?? '';
  const [image, setImage] = useState(asked);
  const [state, setState] = useState<State>({ kind: 'idle' });
  // The field follows the URL when it changes, not on mount: an effect runs after the first paint,
  // and resetting the field then would drop what was already typed into it.
  const shown = useRef(asked);

  useEffect(() => {
    if (shown.current !== asked) setImage(asked);
    shown.current = asked;
    if (asked === '') {
      setState({ kind: 'idle' });
      return;
    }
    let live = true;
    setState({ kind: 'loading', image: asked });
    props.api.get<Explanation>(`/explain?${new URLSearchParams({ image: asked }).toString()}`).then(
      (answer) => live && setState({ kind: 'done', answer }),
      (error: unknown) => live && setState({ kind: 'failed', image: asked, error }),
    );
    return () => {
      live = false;
    };
  }, [asked]);

  const submit = (event: Event): void => {
    event.preventDefault();
    const wanted = image.trim();
    if (wanted !== '') navigate(href('/explain', { image: wanted }), wanted === asked);
  };

  return (
    <>
      <h1>Explain</h1>
      <p>Why is an image allowed or blocked? trustgate reads its manifest and runs the whole gate, without serving or caching anything.</p>
      <form class="inline" onSubmit={submit} role="search" aria-label="Explain an image">
        <label for="explain-image">Image reference</label>
        <input
          id="explain-image"
          name="image"
          type="text"
          spellcheck={false}
          autocomplete="off"
          placeholder="registry.example/team/app:v1"
          aria-describedby="explain-help"
          value={image}
          onInput={(e) => setImage((e.target as HTMLInputElement).value)}
        />
        <button type="submit">Explain</button>
        <p id="explain-help" class="help">
          &lt;registry host&gt;/&lt;repository&gt;:&lt;tag&gt; or &lt;registry host&gt;/&lt;repository&gt;@&lt;digest&gt;
        </p>
      </form>
      <section aria-live="polite" aria-busy={state.kind === 'loading'}>
        {state.kind === 'loading' ? <p>Explaining {state.image}…</p> : null}
        {state.kind === 'failed' ? (
          <>
            <h2 data-testid="explained-image">{state.image}</h2>
            <Problem error={state.error} forbidden="explain images" />
          </>
        ) : null}
        {state.kind === 'done' ? <Answer answer={state.answer} session={props.session} /> : null}
      </section>
    </>
  );
}

function Answer(props: { answer: Explanation; session: Session }): JSX.Element {
  const { answer } = props;
  const denied = answer.outcome === 'deny';
  const name = imageName(answer.image);
  const breakGlassImage = answer.digest === null ? undefined : `${name}@${answer.digest}`;
  return (
    <article aria-labelledby="explained-image">
      <h2 id="explained-image" data-testid="explained-image">
        {answer.image}
      </h2>
      <p class={denied ? 'outcome deny' : 'outcome allow'} data-testid="outcome">
        {denied ? 'Denied' : 'Allowed'}
      </p>
      <dl>
        <Field term="Rule">{answer.rule}</Field>
        <Field term="Digest">{answer.digest ?? '—'}</Field>
        <Field term="Media type">{answer.mediaType ?? '—'}</Field>
        <Field term="Counted signers">{answer.signers.length === 0 ? 'none' : answer.signers.join(', ')}</Field>
        <Field term="Allowed until">{answer.notAfter === null ? '—' : formatTime(answer.notAfter)}</Field>
      </dl>
      <h3>Reasons</h3>
      <Reasons reasons={answer.reasons} />
      {answer.overrides === undefined ? null : (
        <>
          <h3>Denial overridden by break glass</h3>
          <p>
            Rule <code>{answer.overrides.rule}</code> denied it:
          </p>
          <Reasons reasons={answer.overrides.reasons} />
        </>
      )}
      {denied && breakGlassImage !== undefined && may(props.session, 'breakglass.change') ? (
        <p>
          <Link href={href('/breakglass', { image: breakGlassImage })} class="button-link">
            Open break glass for this digest
          </Link>
        </p>
      ) : null}
      <h3>Signatures</h3>
      <Findings findings={answer.findings} />
      <h3>Scan</h3>
      {answer.scan === null ? (
        <p>No rule applied, so no scan requirement.</p>
      ) : (
        <dl>
          <Field term="State">
            <span data-testid="scan-state">{answer.scan.state}</span>
          </Field>
          <Field term="Required by the rule">{answer.scan.required ? 'yes' : 'no'}</Field>
          {answer.scan.record === undefined ? null : (
            <>
              <Field term="Scanner">{answer.scan.record.scanner}</Field>
              <Field term="Finished">{formatTime(answer.scan.record.finishedAt)}</Field>
              <Field term="Findings">
                {Object.entries(answer.scan.record.counts)
                  .map(([severity, count]) => `${severity} ${count}`)
                  .join(', ')}
              </Field>
            </>
          )}
        </dl>
      )}
    </article>
  );
}

function Reasons(props: { reasons: readonly Reason[] }): JSX.Element {
  if (props.reasons.length === 0) return <p>No reasons given.</p>;
  return (
    <ul class="reasons">
      {props.reasons.map((r, i) => (
        <li key={i}>
          <code data-testid="reason-code">{r.code}</code> {r.message}
        </li>
      ))}
    </ul>
  );
}

function Findings(props: { findings: readonly Finding[] }): JSX.Element {
  if (props.findings.length === 0) return <p>No signatures were found for this digest.</p>;
  return (
    <table>
      <caption>Every signature looked at, and why it did or did not count</caption>
      <thead>
        <tr>
          <th scope="col">Source</th>
          <th scope="col">Scheme</th>
          <th scope="col">Verified by</th>
          <th scope="col">Counts for</th>
          <th scope="col">Signer</th>
          <th scope="col">Problem</th>
        </tr>
      </thead>
      <tbody>
        {props.findings.map((f, i) => (
          <tr key={i}>
            <td>{f.source}</td>
            <td>{f.scheme}</td>
            <td>{f.verifiedBy.length === 0 ? 'nobody' : f.verifiedBy.join(', ')}</td>
            <td>{f.countsFor.length === 0 ? 'nothing' : f.countsFor.join(', ')}</td>
            <td>{signer(f)}</td>
            <td>
              {f.failure === undefined ? '' : `${f.failure.kind}: ${f.failure.message}`}
              {f.refusals === undefined ? '' : ` ${f.refusals.map(text).join('; ')}`}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function signer(f: Finding): string {
  if (f.signerSubject !== undefined) return f.signerSubject;
  if (f.certificates !== undefined) return f.certificates.map((c) => `${text(c.identity)} (root ${c.root})`).join(', ');
  return '';
}

/** Any JSON value as plain text (objects as their JSON): shown, never interpreted. */
function text(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** The repository part of an image reference: without its tag or digest. */
function imageName(image: string): string {
  if (image.includes('@')) return image.slice(0, image.indexOf('@'));
  const colon = image.lastIndexOf(':');
  return colon > image.lastIndexOf('/') ? image.slice(0, colon) : image;
}
