// trustgate doctor's checks of what trustgate talks to and presents: each upstream (GET /v2/ with
// its credentials, its clock, its certificate), the listener's certificate, and the trust store's
// certificates.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { connect } from 'node:tls';
import type { Config, UpstreamConfig } from '../config/types.ts';
import type { ProspectiveTrust } from '../trust-store/prospective-trust.ts';
import { certificateExpiry } from '../trust/expiry.ts';
import { createUpstreamClient } from '../upstream/index.ts';
import { DAY, days, iso, message, type Line } from './doctor-line.ts';

/** A listener or upstream certificate this close to its end is a warning. */
const TLS_WARN_DAYS = 14;
/** A trust-store certificate this close to its end is a warning: replacing a root takes longer. */
const TRUST_WARN_DAYS = 30;
/** Clock skew against an upstream's Date header beyond this is a warning (RFC 9110 Date has 1 s grain). */
const SKEW_WARN_S = 60;

/** GET /v2/ through the upstream client (its credentials, token flow, TLS settings), its Date header, and an https upstream's certificate. */
export async function upstreamChecks(upstream: UpstreamConfig, now: () => number): Promise<Line[]> {
  const name = `upstream ${upstream.name}`;
  const client = createUpstreamClient(upstream, { now });
  const lines: Line[] = [];
  try {
    const sent = now();
    let answer;
    try {
      answer = await client.request({ method: 'GET', path: '/v2/', scope: '', maxBytes: 64 * 1024 });
    } catch (error) {
      lines.push({ status: 'fail', check: name, detail: `GET ${upstream.url}/v2/ failed: ${message(error)}` });
    }
    const received = now();
    if (answer !== undefined) {
      const auth = upstream.credentials.type;
      if (answer.status === 200) {
        const header = await client.authorization('').catch(() => undefined);
        const how =
          header === undefined
            ? 'no credentials needed'
            : header.startsWith('Bearer ')
              ? auth === 'bearer'
                ? 'the static bearer token'
                : 'a token from the token flow'
              : 'Basic';
        lines.push({ status: 'ok', check: name, detail: `GET ${upstream.url}/v2/ answered 200 (auth ${auth}: ${how})` });
      } else {
        const why = answer.status === 401 ? `: the configured credentials (auth ${auth}) were not accepted` : '';
        lines.push({ status: 'fail', check: name, detail: `GET ${upstream.url}/v2/ answered ${answer.status}${why}` });
      }
      lines.push(clock(name, answer.headers['date'], (sent + received) / 2));
    }
    if (new URL(upstream.url).protocol === 'https:') lines.push(await upstreamTls(name, upstream, now));
  } finally {
    await client.close().catch(() => {});
  }
  return lines;
}

function clock(name: string, date: string | undefined, at: number): Line {
  const check = `${name} clock`;
  const then = date === undefined ? NaN : Date.parse(date);
  if (!Number.isFinite(then)) return { status: 'warn', check, detail: 'no Date header to compare this clock with' };
  const skew = Math.round((at - then) / 1000);
  const side = skew === 0 ? 'in step with' : `${Math.abs(skew)} s ${skew > 0 ? 'ahead of' : 'behind'}`;
  const detail = `this clock is ${side} its Date header (${date})`;
  return Math.abs(skew) > SKEW_WARN_S
    ? { status: 'warn', check, detail: `${detail}: token expiry, certificate validity and scan ages are judged by this clock` }
    : { status: 'ok', check, detail };
}

/** The certificate the upstream serves, checked as the client checks it (its caFile, else the system CAs), and its end. */
async function upstreamTls(name: string, upstream: UpstreamConfig, now: () => number): Promise<Line> {
  const check = `${name} tls`;
  const url = new URL(upstream.url);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  try {
    const peer = await new Promise<{ certificate: X509Certificate | undefined; problem: string | undefined }>((resolve, reject) => {
      const socket = connect({
        host,
        port: Number(url.port || 443),
        ...(isIP(host) === 0 ? { servername: host } : {}),
        ...upstream.tls,
        rejectUnauthorized: false,
        timeout: upstream.timeouts.connectMs,
      });
      socket.once('secureConnect', () => {
        const certificate = socket.getPeerX509Certificate();
        const chain = socket.authorized ? undefined : String(socket.authorizationError ?? 'not trusted');
        const named =
          certificate === undefined || (isIP(host) === 0 ? certificate.checkHost(host) : certificate.checkIP(host)) !== undefined;
        socket.end();
        resolve({ certificate, problem: chain ?? (named ? undefined : `it is not for ${host}`) });
      });
      socket.once('timeout', () => socket.destroy(new Error(`no TLS handshake within ${upstream.timeouts.connectMs} ms`)));
      socket.once('error', reject);
    });
    if (peer.certificate === undefined) return { status: 'fail', check, detail: 'no certificate served' };
    return certificateLine(check, peer.certificate, now(), peer.problem === undefined ? undefined : `not trusted: ${peer.problem}`);
  } catch (error) {
    return { status: 'fail', check, detail: `TLS to ${url.host} failed: ${message(error)}` };
  }
}

/** The listener's certificate (listen.tls): readable, its key matching, and its end. */
export function listenerTls(config: Config, now: number): Line {
  const check = 'listen tls';
  const tls = config.listen.tls;
  if (tls === undefined) {
    return {
      status: 'warn',
      check,
      detail: 'plain HTTP (listen.plainHttp): container runtimes refuse it unless the registry is marked insecure',
    };
  }
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(readFileSync(tls.certFile));
  } catch (error) {
    return { status: 'fail', check, detail: `cannot read a certificate from ${tls.certFile}: ${message(error)}` };
  }
  let mismatch: string | undefined;
  try {
    if (!certificate.checkPrivateKey(createPrivateKey(readFileSync(tls.keyFile))))
      mismatch = `the key in ${tls.keyFile} is not this certificate's`;
  } catch {
    mismatch = `cannot read a private key from ${tls.keyFile}`;
  }
  return certificateLine(check, certificate, now, mismatch);
}

function certificateLine(check: string, certificate: X509Certificate, now: number, problem: string | undefined): Line {
  const end = Date.parse(certificate.validTo);
  const subject = certificate.subject.replace(/\n/g, ', ');
  const detail = `${subject}, valid until ${iso(end)} (${days(end - now)})`;
  if (problem !== undefined) return { status: 'fail', check, detail: `${detail}; ${problem}` };
  if (end <= now) return { status: 'fail', check, detail: `${subject} expired at ${iso(end)}` };
  if (Date.parse(certificate.validFrom) > now)
    return { status: 'fail', check, detail: `${subject} is not valid before ${certificate.validFrom}` };
  return { status: end - now < TLS_WARN_DAYS * DAY ? 'warn' : 'ok', check, detail };
}

/** The trust store's soonest certificate end (notation roots, TSA roots, sigstore roots' CAs; keys have none), revoked entries aside. */
export function trustCertificates(trust: ProspectiveTrust | Error, now: number): Line {
  const check = 'trust certificates';
  if (trust instanceof Error) return { status: 'fail', check, detail: `trust store: ${trust.message}` };
  const revoked = new Set(trust.snapshot.revocations.map((r) => r.id));
  const ends = trust.snapshot.entries
    .filter((e) => !revoked.has(e.id))
    .flatMap((entry) => {
      const end = certificateExpiry(entry);
      return end === undefined ? [] : [{ entry, ...end }];
    })
    .sort((a, b) => a.notAfter - b.notAfter);
  const soonest = ends[0];
  if (soonest === undefined) {
    const keys = trust.snapshot.entries.filter((e) => e.kind === 'key').length;
    return {
      status: 'ok',
      check,
      detail: `no certificate in the trust store (${keys} ${keys === 1 ? 'key' : 'keys'}; keys do not expire)`,
    };
  }
  const expired = ends.filter((e) => e.notAfter <= now).length;
  const what = `${soonest.entry.kind} "${soonest.entry.id}" (${soonest.subject})`;
  if (expired > 0) {
    return {
      status: 'fail',
      check,
      detail: `${what} expired at ${iso(soonest.notAfter)}${expired > 1 ? `, and ${expired - 1} more expired` : ''}: signatures that need it fail`,
    };
  }
  const detail = `soonest ${iso(soonest.notAfter)} (${days(soonest.notAfter - now)}): ${what}, of ${ends.length} with certificates`;
  return { status: soonest.notAfter - now < TRUST_WARN_DAYS * DAY ? 'warn' : 'ok', check, detail };
}
