import type { IncomingMessage } from 'node:http';
import { BlockList, isIP } from 'node:net';

/**
 * Which peers are trusted to say who the client is (`X-Forwarded-For`): the load balancers in front. Entries are
 * addresses, CIDR ranges, or the words `loopback` and `private` (RFC 1918 and IPv6 unique-local ranges, where
 * the deploy files' HAProxy, nginx and Kubernetes ingress run). An empty list trusts no one.
 */
export class TrustedProxies {
  readonly #list = new BlockList();
  readonly #empty: boolean;

  constructor(entries: readonly string[]) {
    this.#empty = entries.length === 0;
    for (const entry of entries) {
      if (entry === 'loopback') {
        this.#list.addSubnet('127.0.0.0', 8, 'ipv4');
        this.#list.addAddress('::1', 'ipv6');
      } else if (entry === 'private') {
        for (const [net, bits] of [
          ['10.0.0.0', 8],
          ['172.16.0.0', 12],
          ['192.168.0.0', 16],
        ] as const)
          this.#list.addSubnet(net, bits, 'ipv4');
        this.#list.addSubnet('fc00::', 7, 'ipv6');
      } else if (entry.includes('/')) {
        const [net, bits] = entry.split('/');
        this.#list.addSubnet(net!, Number(bits), isIP(net!) === 6 ? 'ipv6' : 'ipv4');
      } else {
        this.#list.addAddress(entry, isIP(entry) === 6 ? 'ipv6' : 'ipv4');
      }
    }
  }

  trusts(address: string): boolean {
    if (this.#empty) return false;
    const plain = unmapped(address);
    const family = isIP(plain);
    return family !== 0 && this.#list.check(plain, family === 6 ? 'ipv6' : 'ipv4');
  }
}

/** The default: the balancers of the deploy files, on this host or a private network. */
export const DEFAULT_TRUSTED_PROXIES: readonly string[] = Object.freeze(['loopback', 'private']);

/** Who sent a request: the peer, or behind a trusted balancer the client it names (see `clientAddress`). */
export type AddressOf = (req: IncomingMessage) => string;

/**
 * The client's address: the peer's, unless the peer is a trusted proxy; then the right-most address of
 * `X-Forwarded-For` that is not a trusted proxy itself (what a client writes there is only believed up to the
 * first hop we trust).
 */
export function clientAddress(req: IncomingMessage, trusted: TrustedProxies): string {
  let address = unmapped(req.socket.remoteAddress ?? 'unknown');
  if (!trusted.trusts(address)) return address;
  const header = req.headers['x-forwarded-for'];
  const hops = (Array.isArray(header) ? header.join(',') : (header ?? ''))
    .split(',')
    .map((hop) => unmapped(hop.trim()))
    .filter((hop) => isIP(hop) !== 0);
  for (let i = hops.length - 1; i >= 0; i--) {
    address = hops[i]!;
    if (!trusted.trusts(address)) return address;
  }
  return address;
}

/** `::ffff:10.0.0.1` → `10.0.0.1`. */
function unmapped(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}
