import { Secret } from '../config/secret.ts';

/**
 * The Redis URL forms trustgate accepts:
 *
 *   redis://[user[:password]@]host[:port][/db]          one server (port 6379, db 0 by default)
 *   rediss://…                                          the same over TLS
 *   redis-sentinel://[user[:password]@]host[:port],host[:port]/<masterName>[/db][?sentinelAuth=true]
 *   rediss-sentinel://…                                 the same; TLS to the sentinels and the master
 *   redis-cluster://[user[:password]@]host[:port],host[:port]
 *   rediss-cluster://…                                  the same over TLS
 *
 * Sentinel: the hosts are sentinels (default port 26379); the master is found through them by
 * name. The credentials authenticate to the master; sentinels get them too only with
 * `?sentinelAuth=true` (a sentinel without requirepass rejects AUTH). Cluster: the hosts are seed
 * nodes (default port 6379); the rest are discovered. User and password are percent-decoded.
 */
export type RedisTopology = 'standalone' | 'sentinel' | 'cluster';

export interface RedisNode {
  readonly host: string;
  readonly port: number;
}

export interface RedisTarget {
  readonly topology: RedisTopology;
  readonly tls: boolean;
  readonly nodes: readonly RedisNode[];
  readonly username: string | undefined;
  readonly password: Secret | undefined;
  readonly db: number;
  /** Sentinel only. */
  readonly masterName: string | undefined;
  readonly sentinelAuth: boolean;
}

const SCHEMES: Record<string, { topology: RedisTopology; tls: boolean; port: number }> = {
  redis: { topology: 'standalone', tls: false, port: 6379 },
  rediss: { topology: 'standalone', tls: true, port: 6379 },
  'redis-sentinel': { topology: 'sentinel', tls: false, port: 26379 },
  'rediss-sentinel': { topology: 'sentinel', tls: true, port: 26379 },
  'redis-cluster': { topology: 'cluster', tls: false, port: 6379 },
  'rediss-cluster': { topology: 'cluster', tls: true, port: 6379 },
};

const URL_SHAPE = /^([a-z-]+):\/\/(?:([^@/?#]*)@)?([^/?#]*)(\/[^?#]*)?(\?[^#]*)?$/;

/** The URL with any password replaced, safe for logs and error messages. */
export function redactRedisUrl(url: string): string {
  // Up to the LAST '@': a password with an unencoded '@' or '/' must not leak either.
  const start = url.indexOf('://');
  const at = url.lastIndexOf('@');
  if (start < 0 || at < start) return url;
  const user = url.slice(start + 3, at).split(':')[0] ?? '';
  return `${url.slice(0, start + 3)}${user}:***${url.slice(at)}`;
}

function invalid(url: string, why: string): TypeError {
  return new TypeError(`redis url ${JSON.stringify(redactRedisUrl(url))}: ${why}`);
}

function parseNode(url: string, text: string, defaultPort: number): RedisNode {
  const match = /^(?:\[([0-9a-f:.]+)\]|([^:[\]@/]+))(?::(\d{1,5}))?$/i.exec(text);
  const host = match?.[1] ?? match?.[2];
  const port = match?.[3] === undefined ? defaultPort : Number(match[3]);
  if (host === undefined || port < 1 || port > 65535) throw invalid(url, `bad host ${JSON.stringify(text)}`);
  return { host, port };
}

function decode(url: string, part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw invalid(url, 'bad percent-encoding in the credentials');
  }
}

function parseDb(url: string, text: string | undefined): number {
  if (text === undefined || text === '') return 0;
  if (!/^\d{1,2}$/.test(text)) throw invalid(url, `bad database number ${JSON.stringify(text)}`);
  return Number(text);
}

/** Parses and checks a Redis URL. Throws a TypeError whose message never carries the password. */
export function parseRedisUrl(url: string): RedisTarget {
  const match = URL_SHAPE.exec(url.trim());
  if (match === null) throw invalid(url, 'not a URL of the form scheme://host…');
  const [, scheme = '', userinfo, hostList = '', path = '', query = ''] = match;
  const kind = SCHEMES[scheme.toLowerCase()];
  if (kind === undefined) throw invalid(url, `unsupported scheme ${JSON.stringify(scheme)} (expected ${Object.keys(SCHEMES).join(', ')})`);
  if (hostList === '') throw invalid(url, 'no host');
  const nodes = hostList.split(',').map((h) => parseNode(url, h, kind.port));
  if (kind.topology === 'standalone' && nodes.length !== 1)
    throw invalid(url, 'redis:// takes one host; use redis-sentinel:// or redis-cluster://');
  const segments = path.split('/').filter((s) => s !== '');
  let masterName: string | undefined;
  let dbText: string | undefined;
  if (kind.topology === 'sentinel') {
    [masterName, dbText] = segments;
    if (masterName === undefined) throw invalid(url, 'a sentinel URL names the master: redis-sentinel://host:port,…/<masterName>');
    masterName = decode(url, masterName);
    if (segments.length > 2) throw invalid(url, 'unexpected path after /<masterName>/<db>');
  } else {
    [dbText] = segments;
    if (segments.length > 1) throw invalid(url, 'unexpected path after /<db>');
    if (kind.topology === 'cluster' && parseDb(url, dbText) !== 0) throw invalid(url, 'Redis Cluster has only database 0');
  }
  const params = new URLSearchParams(query);
  for (const key of params.keys()) if (key !== 'sentinelAuth') throw invalid(url, `unknown parameter ${JSON.stringify(key)}`);
  const colon = userinfo?.indexOf(':') ?? -1;
  const user = userinfo === undefined ? '' : decode(url, colon < 0 ? userinfo : userinfo.slice(0, colon));
  const password = userinfo === undefined || colon < 0 ? '' : decode(url, userinfo.slice(colon + 1));
  return {
    topology: kind.topology,
    tls: kind.tls,
    nodes,
    username: user === '' ? undefined : user,
    password: password === '' ? undefined : new Secret(password),
    db: parseDb(url, dbText),
    masterName,
    sentinelAuth: kind.topology === 'sentinel' && params.get('sentinelAuth') === 'true',
  };
}
