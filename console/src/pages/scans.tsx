import type { JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ApiError, type Api } from '../api.ts';
import { Problem } from '../components.tsx';
import { formatTime, relative } from '../format.ts';
import { href, navigate } from '../router.ts';
import '../pages.css';

// /admin/v1/scans (docs/console-api.md): the queue of digests waiting for a scanner, and the scan
// record of one digest. Everything a Trivy report says (ids, packages, versions) is shown as text.
// Reading: scanner, auditor (and admin).

interface Pending {
  readonly digest: string;
  readonly canonicalName: string;
  readonly upstream: string;
  readonly requestedAt: string;
}

interface ScanRecord {
  readonly digest: string;
  readonly scanner: string;
  readonly finishedAt: string;
  readonly source: string;
  readonly counts: Readonly<Record<string, number>>;
  readonly findings: readonly { id: string; severity: string; pkg: string; installed: string; fixedIn: string }[];
}

const SEVERITIES = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'UNKNOWN'];
const DIGEST = /^sha256:[0-9a-f]{64}$|^sha512:[0-9a-f]{128}$/;

export function ScansPage(props: { api: Api; params: URLSearchParams }): JSX.Element {
  const [queue, setQueue] = useState<readonly Pending[] | undefined>(undefined);
  const [queueError, setQueueError] = useState<unknown>(undefined);
  const wanted = props.params.get('digest') ?? '';
  const [digest, setDigest] = useState(wanted);
  const [problem, setProblem] = useState<string | undefined>(undefined);

  useEffect(() => {
    props.api
      .get<{ pending: readonly Pending[] }>('/scans/queue')
      .then((q) => setQueue(q.pending))
      .catch(setQueueError);
  }, []);
  useEffect(() => setDigest(wanted), [wanted]);

  const submit = (event: Event): void => {
    event.preventDefault();
    const value = digest.trim();
    if (!DIGEST.test(value)) {
      setProblem('A manifest digest: sha256: and 64 lowercase hex digits.');
      return;
    }
    setProblem(undefined);
    navigate(href('/scans', { digest: value }));
  };

  return (
    <>
      <h1>Scans</h1>
      <p>Vulnerability scans by digest: what is waiting for a scanner, and what a scan found.</p>
      <form class="inline" onSubmit={submit} noValidate>
        <label for="scan-digest">Manifest digest</label>
        <input
          id="scan-digest"
          type="text"
          spellcheck={false}
          autocomplete="off"
          value={digest}
          aria-invalid={problem !== undefined}
          aria-describedby="scan-digest-help"
          onInput={(e) => setDigest((e.target as HTMLInputElement).value)}
        />
        <button type="submit">Show scan</button>
        <p id="scan-digest-help" class="help">
          sha256:… as Explain shows it.
        </p>
      </form>
      {problem === undefined ? null : (
        <p class="problem" role="alert">
          {problem}
        </p>
      )}
      {wanted !== '' && DIGEST.test(wanted) ? <Record api={props.api} digest={wanted} /> : null}
      <h2>Queue</h2>
      {queueError === undefined ? null : <Problem error={queueError} forbidden="read the scan queue" />}
      {queue === undefined ? null : queue.length === 0 ? (
        <p>No digest is waiting for a scanner.</p>
      ) : (
        <table>
          <caption class="visually-hidden">Digests waiting for a scanner, oldest first</caption>
          <thead>
            <tr>
              <th scope="col">Image</th>
              <th scope="col">Digest</th>
              <th scope="col">Upstream</th>
              <th scope="col">Waiting since</th>
            </tr>
          </thead>
          <tbody>
            {queue.map((p) => (
              <tr key={p.digest} data-testid="queue-row">
                <td>{p.canonicalName}</td>
                <td>
                  <code>{p.digest}</code>
                </td>
                <td>{p.upstream}</td>
                <td>
                  {formatTime(p.requestedAt)} ({relative(Date.parse(p.requestedAt))})
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

function Record(props: { api: Api; digest: string }): JSX.Element {
  const [record, setRecord] = useState<ScanRecord | undefined>(undefined);
  const [state, setState] = useState<string | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  useEffect(() => {
    setRecord(undefined);
    setState(undefined);
    setError(undefined);
    props.api
      .get<ScanRecord>(`/scans/${encodeURIComponent(props.digest)}`)
      .then(setRecord)
      .catch((e: unknown) => {
        const answered = e instanceof ApiError && e.status === 404 ? (e.answer as { state?: unknown } | undefined)?.state : undefined;
        if (typeof answered === 'string') setState(answered);
        else setError(e);
      });
  }, [props.digest]);
  return (
    <section aria-labelledby="record-heading">
      <h2 id="record-heading">
        Scan of <code>{props.digest}</code>
      </h2>
      {error === undefined ? null : <Problem error={error} forbidden="read scan records" />}
      {state === undefined ? null : (
        <p data-testid="scan-state">
          No scan record: <strong>{state}</strong>
          {state === 'pending' ? ' (queued for a scanner).' : '.'}
        </p>
      )}
      {record === undefined ? null : (
        <>
          <dl>
            <dt>Scanner</dt>
            <dd data-testid="scan-scanner">{record.scanner}</dd>
            <dt>Finished</dt>
            <dd>
              {formatTime(record.finishedAt)} ({relative(Date.parse(record.finishedAt))})
            </dd>
            <dt>From</dt>
            <dd>{record.source === 'report' ? 'a posted Trivy report' : 'a signed attestation'}</dd>
            <dt>Findings</dt>
            <dd data-testid="scan-counts">{SEVERITIES.map((s) => `${s} ${record.counts[s] ?? 0}`).join(', ')}</dd>
          </dl>
          {record.findings.length === 0 ? (
            <p>No findings.</p>
          ) : (
            <table>
              <caption class="visually-hidden">Findings</caption>
              <thead>
                <tr>
                  <th scope="col">Vulnerability</th>
                  <th scope="col">Severity</th>
                  <th scope="col">Package</th>
                  <th scope="col">Installed</th>
                  <th scope="col">Fixed in</th>
                </tr>
              </thead>
              <tbody>
                {record.findings.map((f, i) => (
                  <tr key={i} data-testid="finding-row">
                    <td>{f.id}</td>
                    <td class={`severity-${f.severity}`}>{f.severity}</td>
                    <td>{f.pkg}</td>
                    <td>{f.installed}</td>
                    <td>{f.fixedIn === '' ? 'not fixed' : f.fixedIn}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      )}
    </section>
  );
}
