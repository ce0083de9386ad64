import { fanout } from './fanout';
import { idle } from './idle';
import { noMemberGateway } from './no-member-gateway';
import { rejoinStorm } from './rejoin-storm';
import { saturation } from './saturation';
import type { Scenario, ScenarioId } from './scenario';
import { smallRooms } from './small-rooms';

/** Every scenario, in the order a bench runs them. */
export const SCENARIOS: readonly Scenario[] = [
  fanout,
  smallRooms,
  idle,
  rejoinStorm,
  noMemberGateway,
  saturation,
];

/** Run when `--scenarios` is not given; saturation only with `--saturation`. */
export const DEFAULT_SCENARIOS: readonly ScenarioId[] = [
  'fanout',
  'small-rooms',
  'idle',
  'rejoin-storm',
  'no-member-gateway',
];

/** The scenario of `id`. */
export function scenario(id: ScenarioId): Scenario {
  const found = SCENARIOS.find((s) => s.id === id);
  if (!found) throw new Error(`unknown scenario ${id}`);
  return found;
}
