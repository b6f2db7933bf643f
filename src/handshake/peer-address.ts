import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';

/**
 * Which addresses a peer may not be reached at (DESIGN section 11): anything that is not a
 * public unicast address of the internet. A peer URL may name any host, and whoever holds a token
 * A chooses the URL we connect to: without this, the service would reach into its own machine
 * and network (loopback, cloud metadata at 169.254.169.254, the database, the admin port…).
 *
 * IPv4: every range of IANA's special-purpose registry that is not globally reachable, broadcast
 * included. IPv6: only global unicast (2000::/3) is allowed, without its documentation,
 * benchmarking and IETF-protocol ranges; IPv4 embedded in IPv6 (mapped `::ffff:a.b.c.d`, NAT64
 * `64:ff9b::/96`, 6to4 `2002::/16`) is judged as the IPv4 address it reaches.
 */
const IPV4_REFUSED: [cidr: string, kind: string][] = [
  ['0.0.0.0/8', 'unspecified'],
  ['10.0.0.0/8', 'private'],
  ['100.64.0.0/10', 'shared'],
  ['127.0.0.0/8', 'loopback'],
  ['169.254.0.0/16', 'link-local'],
  ['172.16.0.0/12', 'private'],
  ['192.0.0.0/24', 'reserved'],
  ['192.0.2.0/24', 'documentation'],
  ['192.88.99.0/24', 'reserved'],
  ['192.168.0.0/16', 'private'],
  ['198.18.0.0/15', 'benchmarking'],
  ['198.51.100.0/24', 'documentation'],
  ['203.0.113.0/24', 'documentation'],
  ['224.0.0.0/4', 'multicast'],
  ['240.0.0.0/4', 'reserved'],
  ['255.255.255.255/32', 'broadcast'],
];

/** Ranges of IPv6 that are refused even inside 2000::/3, and those outside it worth naming. */
const IPV6_NAMED: [cidr: string, kind: string][] = [
  ['::/128', 'unspecified'],
  ['::1/128', 'loopback'],
  ['fc00::/7', 'unique-local'],
  ['fe80::/10', 'link-local'],
  ['fec0::/10', 'site-local'],
  ['ff00::/8', 'multicast'],
  ['64:ff9b:1::/48', 'private'],
  ['2001::/23', 'reserved'],
  ['2001:db8::/32', 'documentation'],
  ['3fff::/20', 'documentation'],
];

const IPV4_RULES = IPV4_REFUSED.map(([cidr, kind]) => ({ ...parseCidr(cidr), kind }));
const IPV6_RULES = IPV6_NAMED.map(([cidr, kind]) => ({ ...parseCidr(cidr), kind }));

/**
 * Why `address` (an IPv4 or IPv6 address, without brackets) may not be connected to: the kind of
 * range it is in (`loopback`, `private`, …), or undefined for a public address. Anything that is
 * not an IP address is refused as `not an IP address`.
 */
export function addressRefusal(address: string): string | undefined {
  const family = isIP(address);
  if (family === 4) return refusalOf(ipv4Bytes(address), IPV4_RULES);
  if (family !== 6) return 'not an IP address';
  const bytes = ipv6Bytes(address);
  const embedded = embeddedIpv4(bytes);
  if (embedded) return refusalOf(embedded, IPV4_RULES);
  const named = refusalOf(bytes, IPV6_RULES);
  if (named) return named;
  // Global unicast is 2000::/3: everything else is reserved, unassigned or local.
  return (bytes[0] & 0xe0) === 0x20 ? undefined : 'reserved';
}

/** The IPv4 address an IPv6 address reaches, for the forms that carry one. */
function embeddedIpv4(bytes: Uint8Array): Uint8Array | undefined {
  const startsWith = (prefix: number[]) => prefix.every((b, i) => bytes[i] === b);
  // ::ffff:a.b.c.d (mapped) and 64:ff9b::a.b.c.d (NAT64): the last 32 bits.
  if (startsWith([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff])) return bytes.subarray(12);
  if (startsWith([0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0])) return bytes.subarray(12);
  // 2002:aabb:ccdd::/48 (6to4): bits 16 to 48.
  if (startsWith([0x20, 0x02])) return bytes.subarray(2, 6);
  return undefined;
}

function refusalOf(
  bytes: Uint8Array,
  rules: { bytes: Uint8Array; prefix: number; kind: string }[],
): string | undefined {
  // The most specific range names the kind (2001:db8::/32 is documentation, not 2001::/23).
  let best: { prefix: number; kind: string } | undefined;
  for (const rule of rules) {
    if (rule.bytes.length === bytes.length && inRange(bytes, rule.bytes, rule.prefix)) {
      if (!best || rule.prefix > best.prefix) best = rule;
    }
  }
  return best?.kind;
}

function inRange(bytes: Uint8Array, base: Uint8Array, prefix: number): boolean {
  for (let bit = 0; bit < prefix; bit += 8) {
    const bits = Math.min(8, prefix - bit);
    const mask = (0xff << (8 - bits)) & 0xff;
    if ((bytes[bit / 8] & mask) !== (base[bit / 8] & mask)) return false;
  }
  return true;
}

function parseCidr(cidr: string): { bytes: Uint8Array; prefix: number } {
  const [address, prefix] = cidr.split('/');
  return {
    bytes: isIP(address) === 4 ? ipv4Bytes(address) : ipv6Bytes(address),
    prefix: Number(prefix),
  };
}

/** The 4 bytes of a dotted-quad IPv4 address (as net.isIP accepts it). */
function ipv4Bytes(address: string): Uint8Array {
  return Uint8Array.from(address.split('.').map(Number));
}

/** The 16 bytes of an IPv6 address (as net.isIP accepts it: `::`, a trailing dotted quad). */
function ipv6Bytes(address: string): Uint8Array {
  let text = address.toLowerCase();
  const zone = text.indexOf('%');
  if (zone >= 0) text = text.slice(0, zone);
  const groups: number[][] = [[], []];
  const halves = text.split('::');
  halves.forEach((half, i) => {
    for (const part of half ? half.split(':') : []) {
      if (part.includes('.')) {
        const [a, b, c, d] = ipv4Bytes(part);
        groups[i].push((a << 8) | b, (c << 8) | d);
      } else {
        groups[i].push(parseInt(part, 16));
      }
    }
  });
  const fill = 8 - groups[0].length - groups[1].length;
  const words = [
    ...groups[0],
    ...Array<number>(halves.length > 1 ? fill : 0).fill(0),
    ...groups[1],
  ];
  const bytes = new Uint8Array(16);
  words.forEach((word, i) => {
    bytes[i * 2] = word >> 8;
    bytes[i * 2 + 1] = word & 0xff;
  });
  return bytes;
}

/** A connection refused because of the address its host resolved to (no connection was made). */
export class PeerAddressRefusedError extends Error {
  readonly code = 'ERR_PEER_ADDRESS_REFUSED';
}

const REFUSED_BECAUSE =
  'which is refused (ALLOW_PRIVATE_PEER_ADDRESSES is off; a peer on a private network must be named in PEER_HOST_ALLOWLIST)';

/** Every address of a host name, as the system resolves it (dns.lookup, so /etc/hosts too). */
export type ResolveAll = (hostname: string, options: LookupAllOptions) => Promise<LookupAddress[]>;

const resolveAll: ResolveAll = (hostname, options) =>
  new Promise((resolve, reject) =>
    dnsLookup(hostname, { ...options, all: true }, (error, addresses) =>
      error ? reject(error) : resolve(addresses),
    ),
  );

export interface PeerAddressPolicy {
  /** ALLOW_PRIVATE_PEER_ADDRESSES: every address is allowed. */
  allowPrivate: boolean;
  /** PEER_HOST_ALLOWLIST (lower case): these hosts may be at any address. */
  allowlist: readonly string[];
}

/**
 * The address check of every connection to a peer. Host names are checked where the connection
 * resolves them ({@link lookup}, given to net.connect / tls.connect), on the very addresses it
 * then connects to, so that no DNS answer can change between the check and the connection (DNS
 * rebinding). IP literals are never looked up by net.connect: {@link literalProblem} checks them
 * before any request.
 */
export class PeerAddressGuard {
  constructor(
    private readonly policy: PeerAddressPolicy,
    private readonly resolve: ResolveAll = resolveAll,
    private readonly refusal: (address: string) => string | undefined = addressRefusal,
  ) {}

  /** Whether addresses are checked at all for this host. */
  private checks(hostname: string): boolean {
    return !this.policy.allowPrivate && !this.policy.allowlist.includes(hostname.toLowerCase());
  }

  /**
   * Why a URL's host (`URL.hostname`, IPv6 in brackets) may not be called, when it is an IP
   * literal in a refused range; undefined for a name (checked when connecting) or an allowed one.
   */
  literalProblem(hostname: string): string | undefined {
    const address = hostname.replace(/^\[(.*)\]$/, '$1');
    if (!isIP(address) || !this.checks(hostname)) return undefined;
    const kind = this.refusal(address);
    return kind && `host ${hostname} is a private address (${kind}), ${REFUSED_BECAUSE}`;
  }

  /**
   * net.connect's `lookup`: resolves every address of the host and fails the connection, before
   * it is made, when any of them is refused (one refused address is enough: the connection could
   * go to any of them).
   */
  readonly lookup: LookupFunction = (hostname, options, callback) => {
    const done = callback as (
      error: NodeJS.ErrnoException | null,
      address?: string | LookupAddress[],
      family?: number,
    ) => void;
    this.resolve(hostname, { ...options, all: true })
      .then((addresses) => {
        if (this.checks(hostname) && addresses.some((a) => this.refusal(a.address))) {
          throw new PeerAddressRefusedError(
            `host ${hostname} resolves to a private address, ${REFUSED_BECAUSE}`,
          );
        }
        if (addresses.length === 0) {
          throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), {
            code: 'ENOTFOUND',
          });
        }
        if (options.all) done(null, addresses);
        else done(null, addresses[0].address, addresses[0].family);
      })
      .catch((error: NodeJS.ErrnoException) => done(error));
  };
}
