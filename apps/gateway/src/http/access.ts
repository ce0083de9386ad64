import type { IncomingMessage } from 'node:http';
import { HostPolicy } from './host';
import { originAllowed } from './origin';

export interface AccessOptions {
  /** Browser origins allowed to connect; undefined means the page's own host only. */
  allowedOrigins?: readonly string[] | undefined;
  /** Where users reach the cluster, e.g. `https://chat.example.com`: its host is served, its scheme expected. */
  publicUrl?: string | undefined;
  /** More `Host` names to serve (`*.example.com`, `*` for any). */
  allowedHosts?: readonly string[] | undefined;
}

/** Why a request is refused, as an HTTP status and a short reason. */
export interface Refusal {
  status: 403 | 421;
  reason: string;
}

/**
 * Who may use the page, Socket.IO and `/ws`: the `Host` must be one this cluster serves (DNS rebinding), and a
 * browser's `Origin` must be allowed (a cross-site WebSocket). One place, so the three entry points agree.
 */
export class AccessPolicy {
  readonly #hosts: HostPolicy;
  readonly #origins: readonly string[] | undefined;
  readonly #scheme: 'http:' | 'https:' | undefined;

  constructor(options: AccessOptions) {
    this.#hosts = new HostPolicy({ publicUrl: options.publicUrl, allowedHosts: options.allowedHosts });
    this.#origins = options.allowedOrigins;
    const scheme = options.publicUrl ? new URL(options.publicUrl).protocol : undefined;
    this.#scheme = scheme === 'http:' || scheme === 'https:' ? scheme : undefined;
  }

  /** Undefined when `req` may be served, else why not. */
  check(req: IncomingMessage): Refusal | undefined {
    if (!this.#hosts.allows(req.headers.host)) return { status: 421, reason: 'unknown host' };
    if (!originAllowed(req, this.#origins, this.#scheme)) return { status: 403, reason: 'forbidden origin' };
    return undefined;
  }

  /** Whether a request with this `Host` may be served (whatever its origin). */
  hostAllowed(req: IncomingMessage): boolean {
    return this.#hosts.allows(req.headers.host);
  }
}
