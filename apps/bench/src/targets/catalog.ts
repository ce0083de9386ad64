import { chorus1AaTarget, chorus1Target, chorus3ClusterTarget, chorus3Target } from './chorus-targets';
import { externalTarget } from './external-target';
import { classicTarget, plainTarget } from './relay-targets';
import type { TargetId, TargetSpec } from './target';

/** The targets the bench starts itself. */
export const LOCAL_TARGETS: readonly TargetSpec[] = [
  plainTarget,
  classicTarget,
  chorus1Target,
  chorus1AaTarget,
  chorus3Target,
  chorus3ClusterTarget,
];

/** Run when `--targets` is not given (plus `url` when `--url` is). */
export const DEFAULT_TARGETS: readonly TargetId[] = LOCAL_TARGETS.map((t) => t.id);

/** The quick ones for `--smoke` (CI): no Redis Cluster, no second relay set. */
export const SMOKE_TARGETS: readonly TargetId[] = ['plain', 'chorus-1', 'chorus-3'];

/** The spec of each id in `ids`, in that order; `url` needs `urls`. */
export function targetSpecs(ids: readonly TargetId[], urls: readonly string[]): TargetSpec[] {
  return ids.map((id) => {
    if (id === 'url') return externalTarget(urls);
    const spec = LOCAL_TARGETS.find((t) => t.id === id);
    if (!spec) throw new Error(`unknown target ${id}`);
    return spec;
  });
}
