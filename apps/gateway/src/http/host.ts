import { isIP } from 'node:net';

/**
 * Which `Host` names a gateway answers to. A page on another domain that resolves to the gateway (DNS
 * rebinding: its `Origin` and `Host` both say `evil.example`) must get nothing, so only these are served:
 * localhost names, IP addresses (a rebinding attack needs a domain name), the host of `PUBLIC_URL`, and the
 * `ALLOWED_HOSTS` entries (exact names, `*.example.com` for subdomains, or `*` for any).
 */
export class HostPolicy {
  readonly #exact = new Set<string>();
  readonly #suffixes: string[] = [];
  readonly #any: boolean;

  constructor({
    publicUrl,
    allowedHosts = [],
  }: { publicUrl?: string | undefined; allowedHosts?: readonly string[] }) {
    this.#any = allowedHosts.includes('*');
    if (publicUrl) this.#exact.add(new URL(publicUrl).hostname.toLowerCase());
    for (const host of allowedHosts) {
      if (host.startsWith('*.')) this.#suffixes.push(host.slice(1).toLowerCase());
      else this.#exact.add(host.toLowerCase());
    }
  }

  /** Whether a request with this `Host` header (name, optional port) may be served. */
  allows(hostHeader: string | undefined): boolean {
    if (this.#any) return true;
    const name = hostName(hostHeader);
    if (name === undefined) return false;
    if (name === 'localhost' || name.endsWith('.localhost') || isIP(name) !== 0) return true;
    return this.#exact.has(name) || this.#suffixes.some((suffix) => name.endsWith(suffix));
  }
}

/** The name part of a `Host` header, lower-cased, without port or IPv6 brackets; undefined when malformed. */
function hostName(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const value = header.trim().toLowerCase();
  if (value.startsWith('[')) {
    const end = value.indexOf(']');
    return end > 0 ? value.slice(1, end) : undefined;
  }
  const name = value.replace(/:\d+$/, '');
  return /^[a-z0-9.-]+$/.test(name) ? name : undefined;
}
