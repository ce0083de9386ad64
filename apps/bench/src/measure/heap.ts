import { readFileSync } from 'node:fs';

/** Used V8 heap of a Chorus gateway, from its Prometheus `nodejs_heap_size_used_bytes` (prom-client). */
export async function heapFromMetrics(baseUrl: string): Promise<number | undefined> {
  const response = await fetch(new URL('/metrics', baseUrl), { signal: AbortSignal.timeout(5_000) });
  if (!response.ok) return undefined;
  const match = /^nodejs_heap_size_used_bytes(?:\{[^}]*\})? (\S+)$/m.exec(await response.text());
  return match ? Number(match[1]) : undefined;
}

/** Used V8 heap of a baseline relay after a full GC (its `/heap` runs `gc()` first). */
export async function heapFromRelay(baseUrl: string): Promise<number | undefined> {
  const response = await fetch(new URL('/heap', baseUrl), { signal: AbortSignal.timeout(5_000) });
  if (!response.ok) return undefined;
  const body = (await response.json()) as { heapUsed?: unknown };
  return typeof body.heapUsed === 'number' ? body.heapUsed : undefined;
}

/** Resident set size of `pid` in bytes (Linux /proc), or undefined. */
export function rssBytes(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}
