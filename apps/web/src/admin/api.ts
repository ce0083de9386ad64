// The admin API the gateway serves at /admin/api/cluster (apps/gateway/src/admin/admin.routes.ts); its types are
// the wire contract in @chorus/protocol.

import type { ClusterView, NodeReport } from '@chorus/protocol';

/** The API refused the token (401), or is switched off on the gateway (404). */
export class AccessError extends Error {
  override name = 'AccessError';
  constructor(readonly status: 401 | 404) {
    super(
      status === 401 ? 'The admin token was refused.' : 'The admin page is switched off (ADMIN_TOKEN unset).',
    );
  }
}

/** Fetches the cluster view with `token`; rejects with `AccessError` on 401/404, with `Error` otherwise. */
export async function fetchCluster(token: string, timeoutMs = 5_000): Promise<ClusterView> {
  const response = await fetch('/admin/api/cluster', {
    headers: { Authorization: `Bearer ${token}`, Accept: 'application/json' },
    cache: 'no-store',
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (response.status === 401 || response.status === 404) throw new AccessError(response.status);
  if (!response.ok) throw new Error(`the gateway answered ${response.status}`);
  const body: unknown = await response.json();
  if (!isClusterView(body)) throw new Error('the gateway answered something unexpected');
  return body;
}

const isNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);
const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null;

function isNodeReport(value: unknown): value is NodeReport {
  return (
    isRecord(value) &&
    typeof value.node === 'string' &&
    isNumber(value.connections) &&
    isNumber(value.rooms) &&
    isNumber(value.messagesInPerSec) &&
    isNumber(value.messagesOutPerSec) &&
    isNumber(value.startedAt) &&
    typeof value.draining === 'boolean'
  );
}

function isClusterView(value: unknown): value is ClusterView {
  return (
    isRecord(value) &&
    typeof value.node === 'string' &&
    Array.isArray(value.nodes) &&
    value.nodes.every(isNodeReport) &&
    Array.isArray(value.rooms) &&
    value.rooms.every((r) => isRecord(r) && typeof r.room === 'string' && isNumber(r.members)) &&
    isRecord(value.totals)
  );
}
