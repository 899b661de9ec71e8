// Where trustgate's own connections go (docs/redirects.md). Every upstream connection resolves its
// host here once and connects to exactly the address it resolved, so a name cannot be checked
// against one address and then used with another (DNS rebinding). Connections that follow a
// redirect also pass the address policy: loopback, private, link-local, CGNAT, unspecified,
// multicast, reserved, NAT64, 6to4, Teredo and IPv4-mapped (or -compatible) addresses are refused
// unless a configured network lists them; an IPv6 address carrying IPv4 also needs that IPv4 to pass.
import { lookup } from 'node:dns/promises';
import { BlockList, connect as netConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { buildConnector } from 'undici';
import { TrustgateError } from '../errors/errors.ts';

export interface ResolvedAddress {
  readonly address: string;
  readonly family: 4 | 6;
  readonly port: number;
}

/**
 * Resolves `host:port` to the addresses to connect to. Production resolves the name with the
 * system resolver and keeps the port. Tests may map `host:port` to another `address:port` (as
 * curl's --connect-to does), so a front standing in for ghcr.io can listen on a free loopback port.
 */
export type AddressResolver = (hostname: string, port: number) => Promise<readonly ResolvedAddress[]>;

export const systemResolver: AddressResolver = async (hostname, port) => {
  const literal = isIP(unbracket(hostname));
  if (literal !== 0) return [{ address: unbracket(hostname), family: literal as 4 | 6, port }];
  const found = await lookup(hostname, { all: true, verbatim: true });
  return found.map((entry) => ({ address: entry.address, family: entry.family as 4 | 6, port }));
};

/** A resolver that sends the listed `host:port` pairs to `address:port` and resolves everything else with `fallback`. */
export function connectToResolver(map: Readonly<Record<string, string>>, fallback: AddressResolver = systemResolver): AddressResolver {
  return async (hostname, port) => {
    const host = unbracket(hostname);
    const target = map[`${isIP(host) === 6 ? `[${host}]` : host}:${port}`];
    if (target === undefined) return fallback(hostname, port);
    const split = target.lastIndexOf(':');
    const address = unbracket(target.slice(0, split));
    const family = isIP(address);
    if (family === 0) throw new TypeError(`connect-to target ${target} is not address:port`);
    return [{ address, family: family as 4 | 6, port: Number(target.slice(split + 1)) }];
  };
}

/**
 * The IPv4 addresses an IPv6 address in a special range carries (IPv4-mapped, NAT64, 6to4, ...):
 * reaching the IPv6 address reaches them, so a listed IPv6 network admits it only if they pass too.
 */
type Embedded = (bytes: Uint8Array) => readonly string[];
const v4At =
  (...at: number[]): Embedded =>
  (b) => [at.map((i) => b[i]).join('.')];
const last32: Embedded = v4At(12, 13, 14, 15);
/** Teredo carries its server's address and, inverted, the client's. */
const teredo: Embedded = (b) => [...v4At(4, 5, 6, 7)(b), [12, 13, 14, 15].map((i) => b[i]! ^ 0xff).join('.')];

/** Why an address may not be reached by a redirect hop, by range (the names appear in errors). First match wins. */
const SPECIAL_RANGES: ReadonlyArray<readonly [string, number, 'ipv4' | 'ipv6', string, Embedded?]> = [
  ['0.0.0.0', 8, 'ipv4', 'unspecified'],
  ['10.0.0.0', 8, 'ipv4', 'private'],
  ['100.64.0.0', 10, 'ipv4', 'CGNAT'],
  ['127.0.0.0', 8, 'ipv4', 'loopback'],
  ['169.254.0.0', 16, 'ipv4', 'link-local'],
  ['172.16.0.0', 12, 'ipv4', 'private'],
  ['192.0.0.0', 24, 'ipv4', 'reserved'],
  ['192.0.2.0', 24, 'ipv4', 'reserved'], // documentation (TEST-NET-1)
  ['192.168.0.0', 16, 'ipv4', 'private'],
  ['198.18.0.0', 15, 'ipv4', 'reserved'],
  ['198.51.100.0', 24, 'ipv4', 'reserved'], // documentation (TEST-NET-2)
  ['203.0.113.0', 24, 'ipv4', 'reserved'], // documentation (TEST-NET-3)
  ['224.0.0.0', 4, 'ipv4', 'multicast'],
  ['240.0.0.0', 4, 'ipv4', 'reserved'],
  ['::', 128, 'ipv6', 'unspecified'],
  ['::1', 128, 'ipv6', 'loopback'],
  ['::', 96, 'ipv6', 'IPv4-compatible', last32], // deprecated (RFC 4291)
  ['::ffff:0:0', 96, 'ipv6', 'IPv4-mapped', last32],
  ['::ffff:0:0:0', 96, 'ipv6', 'IPv4-translated', last32], // RFC 2765
  ['64:ff9b::', 96, 'ipv6', 'NAT64', last32],
  // Local-use NAT64 (RFC 8215), read as a /96 prefix (the usual one). Under a shorter prefix (RFC
  // 6052) the IPv4 address sits elsewhere and the last 32 bits are a suffix that should be zero,
  // read as 0.0.0.0 and refused; a crafted non-zero suffix is not caught, so list a /96 there.
  ['64:ff9b:1::', 48, 'ipv6', 'NAT64', last32],
  ['100::', 64, 'ipv6', 'reserved'], // discard-only
  ['2001::', 32, 'ipv6', 'Teredo', teredo],
  ['2001:db8::', 32, 'ipv6', 'reserved'], // documentation
  ['2002::', 16, 'ipv6', '6to4', v4At(2, 3, 4, 5)],
  ['fc00::', 7, 'ipv6', 'private'],
  ['fe80::', 10, 'ipv6', 'link-local'],
  ['fec0::', 10, 'ipv6', 'reserved'], // deprecated site-local
  ['ff00::', 8, 'ipv6', 'multicast'],
];

interface SpecialRange {
  readonly list: BlockList;
  readonly family: 4 | 6;
  readonly kind: string;
  readonly embedded: Embedded | undefined;
}

// One list per range and family: a BlockList also matches IPv4 addresses against IPv6 rules (as
// IPv4-mapped), so each address is only checked against the ranges of its own family.
const SPECIAL: readonly SpecialRange[] = SPECIAL_RANGES.map(([net, prefix, type, kind, embedded]) => {
  const list = new BlockList();
  list.addSubnet(net, prefix, type);
  return { list, family: type === 'ipv4' ? 4 : 6, kind, embedded };
});

/** A set of CIDR networks (`10.1.0.0/16`, `fd00::/8`, or one address), parsed once. */
export interface Networks {
  has(address: string): boolean;
}

/**
 * Parses CIDR strings; throws TypeError naming the first bad entry (config/schema.ts checks the text first).
 * An address is looked up among the networks of its own family only, so `::/0` admits no IPv4
 * address and `10.0.0.0/8` no IPv4-mapped one (an IPv6 address carrying IPv4 is judged by both, see redirectGuard).
 */
export function parseNetworks(cidrs: readonly string[]): Networks {
  const lists = { 4: new BlockList(), 6: new BlockList() };
  for (const cidr of cidrs) {
    const [net = '', bits] = cidr.split('/');
    const family = isIP(net);
    if (family === 0) throw new TypeError(`"${cidr}" is not an address or CIDR network`);
    const max = family === 4 ? 32 : 128;
    const prefix = bits === undefined ? max : Number(bits);
    if (!Number.isInteger(prefix) || prefix < 0 || prefix > max || (bits !== undefined && !/^\d{1,3}$/.test(bits)))
      throw new TypeError(`"${cidr}" has a bad prefix length`);
    lists[family as 4 | 6].addSubnet(net, prefix, family === 4 ? 'ipv4' : 'ipv6');
  }
  return {
    has: (address) => {
      const family = isIP(address);
      return family !== 0 && checkIn(lists[family as 4 | 6], address);
    },
  };
}

function specialRange(address: string): SpecialRange | undefined {
  const family = isIP(address);
  return SPECIAL.find((range) => range.family === family && checkIn(range.list, address));
}

/** The kind of special range `address` is in (loopback, private, ...), or undefined for a public address. */
export function specialKind(address: string): string | undefined {
  return specialRange(address)?.kind;
}

function checkIn(list: BlockList, address: string): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  return list.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/** The 16 bytes of an IPv6 address (zone id dropped); `address` has passed isIP() === 6. */
function ipv6Bytes(address: string): Uint8Array {
  let text = address.split('%')[0]!;
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted !== null) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const groups = (part: string): string[] => (part === '' ? [] : part.split(':'));
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail);
  const all = [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  const bytes = new Uint8Array(16);
  all.forEach((group, i) => {
    const value = parseInt(group, 16);
    bytes[2 * i] = value >> 8;
    bytes[2 * i + 1] = value & 0xff;
  });
  return bytes;
}

/** What an address policy refuses, or undefined when `address` may be reached. */
export type AddressGuard = (address: string) => string | undefined;

const article = (kind: string): string => `${/^[aeiouI]/.test(kind) ? 'an' : 'a'} ${kind} address`;

/**
 * Refuses special addresses unless `allowed` lists their network; the message names the range kind,
 * never a config secret. An IPv6 address that carries IPv4 addresses (IPv4-mapped, NAT64, 6to4, ...)
 * is admitted only if its own network is listed and every IPv4 address it carries would be admitted:
 * listing `64:ff9b::/96` for DNS64 reaches public IPv4 storage, not 169.254.169.254 through NAT64.
 */
export function redirectGuard(allowed: Networks): AddressGuard {
  return (address) => {
    const range = specialRange(address);
    if (range === undefined) return undefined;
    if (!allowed.has(address)) return article(range.kind);
    for (const inner of range.embedded?.(ipv6Bytes(address)) ?? []) {
      const kind = specialKind(inner);
      if (kind !== undefined && !allowed.has(inner)) return `${article(kind)} inside ${article(range.kind)}`;
    }
    return undefined;
  };
}

/**
 * Resolves and checks where a connection to `hostname:port` may go: every resolved address must
 * pass the guard (a name that answers with one public and one private address is refused whole),
 * and the first is the one connected to.
 */
export async function pickAddress(
  resolver: AddressResolver,
  hostname: string,
  port: number,
  guard: AddressGuard | undefined,
  onRefused: (host: string, why: string) => TrustgateError,
): Promise<ResolvedAddress> {
  const found = await resolver(hostname, port);
  if (found.length === 0) throw new TrustgateError('UPSTREAM_UNREACHABLE', `${hostname} did not resolve to any address`);
  if (guard !== undefined) {
    for (const entry of found) {
      const why = guard(entry.address);
      if (why !== undefined) throw onRefused(hostname, `it resolves to ${why}`);
    }
  }
  return found[0]!;
}

export interface PinnedConnectOptions {
  readonly resolver: AddressResolver;
  readonly guard?: AddressGuard | undefined;
  readonly onRefused?: (host: string, why: string) => TrustgateError;
  readonly tls: Pick<ConnectionOptions, 'ca' | 'cert' | 'key'>;
  readonly timeoutMs: number;
}

const defaultRefusal = (host: string, why: string): TrustgateError =>
  new TrustgateError('UPSTREAM_REDIRECT_REFUSED', `upstream_redirect_refused: ${host} is not reachable by policy: ${why}`);

/**
 * An undici connector that connects to the address `pickAddress` chose, with TLS verified against
 * the name asked for (SNI and certificate check use the host name, never the address).
 */
export function pinnedUndiciConnector(options: PinnedConnectOptions): buildConnector.connector {
  const base = buildConnector({ ...options.tls, timeout: options.timeoutMs });
  return (opts, callback) => {
    const hostname = unbracket(opts.hostname);
    const port = Number(opts.port !== '' ? opts.port : opts.protocol === 'https:' ? 443 : 80);
    pickAddress(options.resolver, hostname, port, options.guard, options.onRefused ?? defaultRefusal).then(
      (target) =>
        base(
          {
            ...opts,
            hostname: target.address,
            host: `${target.family === 6 ? `[${target.address}]` : target.address}:${target.port}`,
            port: String(target.port),
            servername: opts.servername ?? (isIP(hostname) === 0 ? hostname : undefined),
          },
          callback,
        ),
      (error: unknown) => callback(error as Error, null),
    );
  };
}

/**
 * The same for a node http(s).Agent (http-proxy-middleware streams blobs through one): a
 * `createConnection` that resolves, checks and connects to the chosen address.
 */
export function pinnedCreateConnection(
  options: PinnedConnectOptions,
  secure: boolean,
): (
  connect: { host?: string | null; hostname?: string | null; port?: number | string | null; servername?: string },
  done: (error: Error | null, socket?: Socket) => void,
) => undefined {
  return (connect, done) => {
    const hostname = unbracket(String(connect.hostname ?? connect.host ?? 'localhost'));
    const port = Number(connect.port ?? (secure ? 443 : 80));
    pickAddress(options.resolver, hostname, port, options.guard, options.onRefused ?? defaultRefusal).then(
      (target) => {
        const socket = secure
          ? tlsConnect({
              ...connect,
              ...options.tls,
              host: target.address,
              port: target.port,
              servername: connect.servername ?? (isIP(hostname) === 0 ? hostname : undefined),
              ALPNProtocols: ['http/1.1'],
            } as ConnectionOptions)
          : netConnect({ host: target.address, port: target.port });
        socket.setTimeout(options.timeoutMs, () => socket.destroy(new TrustgateError('UPSTREAM_TIMEOUT', `${hostname} did not connect`)));
        socket.once(secure ? 'secureConnect' : 'connect', () => socket.setTimeout(0));
        done(null, socket);
      },
      (error: unknown) => done(error as Error),
    );
    return undefined;
  };
}

function unbracket(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}
