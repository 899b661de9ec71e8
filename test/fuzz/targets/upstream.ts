// `WWW-Authenticate` from an upstream (src/upstream/www-authenticate.ts, realm.ts, auth.ts, the
// client's 401 flow): challenges parse without throwing and read back as written, and whatever an
// upstream names as its token realm, trustgate calls no origin the config does not name.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { loadConfigText } from '../../../src/config/load.ts';
import type { UpstreamConfig } from '../../../src/config/types.ts';
import { TrustgateError } from '../../../src/errors/errors.ts';
import { createUpstreamClient } from '../../../src/upstream/client.ts';
import { allowedRealm } from '../../../src/upstream/realm.ts';
import { parseChallenges } from '../../../src/upstream/www-authenticate.ts';
import { anyBytes, anyText, assertTyped, jsonish, jsonText, settle, settleAsync } from '../arbitraries.ts';
import type { FuzzTarget } from '../harness.ts';

const TCHAR = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const token = fc.stringMatching(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,12}$/);
/** Any text without the controls a quoted-string may not carry (RFC 9110 §5.6.4: HTAB, SP, VCHAR, obs-text). */
const quotable = fc.string({
  unit: fc.oneof(
    fc.constantFrom('\t', '"', '\\', ',', '=', ' '),
    fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
    fc.integer({ min: 0x80, max: 0xff }).map((c) => String.fromCharCode(c)),
  ),
  maxLength: 30,
});
const quote = (value: string): string => `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;

interface WrittenChallenge {
  readonly scheme: string;
  readonly params: ReadonlyArray<readonly [string, string]>;
  readonly token68?: string;
}
const writtenChallenge: fc.Arbitrary<WrittenChallenge> = fc.oneof(
  fc.record({ scheme: token, params: fc.array(fc.tuple(token, quotable), { maxLength: 4 }) }),
  fc.record({ scheme: token, params: fc.constant([]), token68: fc.stringMatching(/^[A-Za-z0-9\-._~+/]{1,20}={0,2}$/) }),
);
const writeChallenge = (c: WrittenChallenge): string =>
  c.token68 !== undefined
    ? `${c.scheme} ${c.token68}`
    : c.params.length === 0
      ? c.scheme
      : `${c.scheme} ${c.params.map(([n, v]) => `${n}=${quote(v)}`).join(', ')}`;

const headerText = fc.oneof(
  anyText,
  fc.array(writtenChallenge, { minLength: 1, maxLength: 4 }).map((cs) => cs.map(writeChallenge).join(', ')),
  fc
    .array(fc.oneof(token, quotable.map(quote), fc.constantFrom(',', '=', ' ', '"', '\\', 'Bearer', 'realm=', 'Basic')), { maxLength: 12 })
    .map((parts) => parts.join('')),
  fc.integer({ min: 16_000, max: 17_000 }).map((n) => `Bearer realm="${'x'.repeat(n)}"`),
);

interface Sentinel {
  readonly url: string;
  readonly hits: string[];
  close(): Promise<void>;
}

async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

const stop = (server: Server): Promise<void> =>
  new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });

/** Another origin on this machine that records every request it gets: nothing may reach it unless listed. */
async function startSentinel(): Promise<Sentinel> {
  const hits: string[] = [];
  const { server, url } = await listen((req, res) => {
    hits.push(req.url ?? '');
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: 'sentinel-token' }));
  });
  return { url, hits, close: () => stop(server) };
}

interface Script {
  status: number;
  challenge: string;
  tokenStatus: number;
  tokenBody: Buffer;
}

export const upstreamTarget: FuzzTarget = {
  name: 'upstream-auth',
  async open() {
    const sentinel = await startSentinel();
    const script: Script = { status: 401, challenge: '', tokenStatus: 200, tokenBody: Buffer.from('{}') };
    const upstream = await listen((req, res) => {
      if ((req.url ?? '').startsWith('/token')) {
        res.writeHead(script.tokenStatus, { 'content-type': 'application/json' }).end(script.tokenBody);
        return;
      }
      const authorized = req.headers.authorization !== undefined;
      if (authorized) res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      else res.writeHead(script.status, { 'www-authenticate': script.challenge, 'content-type': 'application/json' }).end('{"errors":[]}');
    });
    const listed = `${sentinel.url}/listed`;
    const config = loadConfigText(
      `listen: { plainHttp: true }\nupstreams:\n  - name: up\n    url: ${upstream.url}\n    repositories: ["${new URL(upstream.url).host}/**"]\n    tokenRealms: ["${listed}"]\n    retries: 0\n    timeouts: { connectMs: 500, headersMs: 1000, bodyIdleMs: 1000 }\n`,
      'fuzz.yaml',
    ).upstreams[0]!;
    const origins = new Set([new URL(upstream.url).origin, new URL(listed).origin]);
    const realm = fc.oneof(
      { weight: 1, arbitrary: anyText },
      // Realms trustgate may call: so the token flow (and its hostile answers) runs often.
      { weight: 2, arbitrary: fc.constantFrom(`${upstream.url}/token`, listed, `${listed}?x=1`, `${upstream.url}/token?service=x`) },
      {
        weight: 2,
        arbitrary: fc.constantFrom(
          `${sentinel.url}/token`,
          `${listed}/../token`,
          `http://user:pw@${new URL(upstream.url).host}/token`,
          'file:///etc/passwd',
          'http://127.0.0.1:1/token',
          'http://169.254.169.254/latest/meta-data',
          `${upstream.url.replace('127.0.0.1', 'localhost')}/token`,
          `${upstream.url.toUpperCase()}/token`,
          `//${new URL(sentinel.url).host}/token`,
          `${sentinel.url}@${new URL(upstream.url).host}/token`,
          `${upstream.url}@${new URL(sentinel.url).host}/token`,
          `http://[::ffff:127.0.0.1]:${new URL(sentinel.url).port}/token`,
        ),
      },
    );
    return {
      properties: [
        {
          name: 'parseChallenges: never throws; schemes and names are lower-case tokens; values carry no control characters',
          property: fc.property(headerText, (header) => {
            const result = settle(() => parseChallenges(header));
            assert.ok(result.ok, `threw ${String(!result.ok && result.error)}`);
            assert.ok(result.value.length <= 16);
            for (const c of result.value) {
              assert.ok(TCHAR.test(c.scheme) && c.scheme === c.scheme.toLowerCase());
              assert.equal(Object.getPrototypeOf(c.params), null);
              for (const [name, value] of Object.entries(c.params)) {
                assert.ok(TCHAR.test(name) && name === name.toLowerCase(), name);
                assert.ok(!/[\x00-\x08\x0a-\x1f\x7f]/.test(value), JSON.stringify(value));
              }
              if (c.token68 !== undefined) assert.match(c.token68, /^[A-Za-z0-9\-._~+/]+=*$/);
            }
          }),
        },
        {
          name: 'parseChallenges: challenges written by the RFC 7235 grammar read back (first of duplicate names wins)',
          property: fc.property(fc.array(writtenChallenge, { minLength: 1, maxLength: 5 }), (written) => {
            const parsed = parseChallenges(written.map(writeChallenge).join(', '));
            assert.equal(parsed.length, written.length);
            written.forEach((w, i) => {
              const p = parsed[i]!;
              assert.equal(p.scheme, w.scheme.toLowerCase());
              assert.equal(p.token68, w.token68);
              const expected: Record<string, string> = {};
              for (const [n, v] of w.params) if (!Object.hasOwn(expected, n.toLowerCase())) expected[n.toLowerCase()] = v;
              assert.deepEqual({ ...p.params }, expected);
            });
          }),
        },
        {
          name: 'allowedRealm: a realm is used only on the upstream origin or exactly as listed; anything else is UPSTREAM_BAD_RESPONSE',
          property: fc.property(realm, (text) => {
            const result = settle(() => allowedRealm(config, text));
            if (!result.ok) {
              assertTyped(result.error, TrustgateError);
              return assert.equal((result.error as TrustgateError).code, 'UPSTREAM_BAD_RESPONSE');
            }
            const url = result.value;
            assert.ok(origins.has(url.origin), `realm ${url.href} is on another origin`);
            assert.ok(url.username === '' && url.password === '');
            if (url.origin !== new URL(config.url).origin) assert.equal(url.origin + url.pathname, listed);
          }),
        },
        {
          name: 'the client under a fuzzed 401 and token endpoint: a response or a TrustgateError, and no request to an origin the config does not name',
          weight: 0.25,
          property: fc.asyncProperty(
            fc.oneof(
              { weight: 1, arbitrary: headerText },
              { weight: 3, arbitrary: realm.map((r) => `Bearer realm=${quote(r)},service="fuzz"`) },
              { weight: 1, arbitrary: realm.map((r) => `Basic realm="x", Bearer realm=${quote(r)}`) },
            ),
            fc.constantFrom(200, 400, 401, 403, 404, 500),
            fc.oneof(
              anyBytes,
              jsonish.map((v) => Buffer.from(jsonText(v))),
              fc
                .record(
                  {
                    token: fc.oneof(anyText, fc.constant('good')),
                    expires_in: fc.oneof(fc.integer(), fc.double(), anyText),
                    issued_at: anyText,
                  },
                  { requiredKeys: [] },
                )
                .map((b) => Buffer.from(JSON.stringify(b))),
            ),
            async (challenge, tokenStatus, tokenBody) => {
              // What node lets a server send in a header value at all (HTAB, SP–~, obs-text).
              Object.assign(script, { status: 401, challenge: challenge.replace(/[^\t\x20-\x7e\x80-\xff]/g, '?'), tokenStatus, tokenBody });
              const before = sentinel.hits.length;
              const client = createUpstreamClient(config as UpstreamConfig);
              try {
                const result = await settleAsync(() =>
                  client.request({ method: 'GET', path: '/v2/app/manifests/v1', scope: 'repository:app:pull', maxBytes: 65_536 }),
                );
                if (!result.ok) assertTyped(result.error, TrustgateError);
                else assert.ok([200, 401].includes(result.value.status));
              } finally {
                await client.close();
              }
              for (const hit of sentinel.hits.slice(before)) assert.ok(hit.startsWith('/listed'), `the sentinel origin got ${hit}`);
            },
          ),
        },
      ],
      async close() {
        await stop(upstream.server);
        await sentinel.close();
      },
    };
  },
};
