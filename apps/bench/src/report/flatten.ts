import type { RunResult } from '../bench';

/**
 * A run as flat named figures, the keys the summaries, tables and charts use: counts, `latencyP99Ms`,
 * `deliveriesPerCpuS`, `cpuTotalS`, `cpu:<process name>`, `extra.<scenario figure>`. Missing figures are absent.
 */
export function flatten(run: RunResult): Record<string, number> {
  const out: Record<string, number> = {};
  const put = (key: string, value: number | null | undefined) => {
    if (typeof value === 'number' && Number.isFinite(value)) out[key] = value;
  };
  for (const key of [
    'sent',
    'acked',
    'failed',
    'delivered',
    'expected',
    'missing',
    'duplicates',
    'windowS',
  ] as const) {
    put(key, run[key]);
  }
  put('latencyP50Ms', run.latencyMs?.p50);
  put('latencyP90Ms', run.latencyMs?.p90);
  put('latencyP99Ms', run.latencyMs?.p99);
  put('latencyMaxMs', run.latencyMs?.max);
  put('ackP50Ms', run.ackLatencyMs?.p50);
  put('ackP99Ms', run.ackLatencyMs?.p99);
  put('deliveriesPerCpuS', run.deliveriesPerCpuS);
  put('redisCpuPerMessageUs', run.redisCpuPerMessageUs);
  if (run.cpu) {
    put('cpuTotalS', run.cpu.totalS);
    put('cpuGatewaysS', run.cpu.gatewaysS);
    put('cpuRedisS', run.cpu.redisS);
    put('cpuDriverS', run.cpu.driverS);
    for (const p of run.cpu.processes) put(`cpu:${p.name}`, p.cpuS);
  }
  for (const [key, value] of Object.entries(run.extra ?? {})) put(`extra.${key}`, value);
  return out;
}
