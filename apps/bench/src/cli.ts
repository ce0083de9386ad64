import { parseArgs } from 'node:util';
import type { BenchOptions } from './bench';
import { DEFAULT_SCENARIOS } from './scenarios/catalog';
import { PLACEMENTS, type Placement, SCENARIO_IDS, type ScenarioSettings } from './scenarios/scenario';
import { DEFAULT_SETTINGS, SMOKE_SETTINGS } from './settings';
import { DEFAULT_TARGETS, SMOKE_TARGETS } from './targets/catalog';
import { TARGET_IDS } from './targets/target';

export const USAGE = `usage: npm run bench -- [options]

Drives Chorus and two Socket.IO baselines (each started here, as separate processes) with the same clients,
and writes JSON, a markdown table and an SVG chart to bench/results/<timestamp>/.

  --targets a,b          ${TARGET_IDS.join(', ')}
                         (default: all but url; with --url, url too)
  --scenarios x,y        ${SCENARIO_IDS.join(', ')}
                         (default: all but saturation)
  --url URL              also drive an existing deployment (repeat for several gateways); no CPU figures
  --reps N               interleaved repetitions per scenario and target (default 3)
  --duration S           seconds per traffic run (default 10)
  --saturation           add the saturation scenario (raise the rate until p99 > 1 s or a delivery is lost)
  --smoke                everything tiny (2 s runs, 1 rep, quick targets): the CI check
  --out DIR              write the results into DIR instead of bench/results/<timestamp>/
  --no-warmup            skip the unmeasured warm-up run per target
  --fanout-clients N     fanout: clients in the one room (default ${DEFAULT_SETTINGS.fanout.clients})
  --fanout-rate R        fanout: messages per second (default ${DEFAULT_SETTINGS.fanout.ratePerS})
  --rooms-clients N      small-rooms: clients (default ${DEFAULT_SETTINGS.smallRooms.clients})
  --room-size N          small-rooms: clients per room (default ${DEFAULT_SETTINGS.smallRooms.roomSize})
  --rooms-rate R         small-rooms: messages per second (default ${DEFAULT_SETTINGS.smallRooms.ratePerS})
  --placement P          small-rooms and saturation: spread (a room's members on different gateways, default) or
                         room (a room's members on one gateway, as a balancer hashing the room name places them)
  --idle-connections N   idle: connections (default ${DEFAULT_SETTINGS.idle.connections}; over ~19,000 needs ulimit -n 65536)
  --storm-clients N      rejoin-storm: clients (default ${DEFAULT_SETTINGS.rejoinStorm.clients})
  --storm-room-size N    rejoin-storm: clients per room (default ${DEFAULT_SETTINGS.rejoinStorm.roomSize}; 300 for a mass reconnect of big rooms)
  --text-bytes N         message text length (default ${DEFAULT_SETTINGS.textBytes})

Traffic goes only to the servers started here and to --url; point --url only at deployments you run.`;

/** A command line the bench cannot run; the message says which flag. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Parses the command line into options, or throws a `UsageError`. Returns undefined for `--help`. */
export function parseCommandLine(argv: readonly string[]): BenchOptions | undefined {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      url: { type: 'string', multiple: true },
      targets: { type: 'string' },
      scenarios: { type: 'string' },
      reps: { type: 'string' },
      duration: { type: 'string' },
      saturation: { type: 'boolean', default: false },
      smoke: { type: 'boolean', default: false },
      out: { type: 'string' },
      'no-warmup': { type: 'boolean', default: false },
      'fanout-clients': { type: 'string' },
      'fanout-rate': { type: 'string' },
      'rooms-clients': { type: 'string' },
      'room-size': { type: 'string' },
      'rooms-rate': { type: 'string' },
      placement: { type: 'string' },
      'idle-connections': { type: 'string' },
      'storm-clients': { type: 'string' },
      'storm-room-size': { type: 'string' },
      'text-bytes': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) return undefined;

  const urls = (values.url ?? []).map((u) => {
    try {
      return new URL(u).toString().replace(/\/$/, '');
    } catch {
      throw new UsageError(`--url ${JSON.stringify(u)} is not a URL`);
    }
  });
  const smoke = values.smoke;
  const base = smoke ? SMOKE_SETTINGS : DEFAULT_SETTINGS;
  const number = (flag: string, value: string | undefined, fallback: number, min = 1): number => {
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!Number.isFinite(n) || n < min) throw new UsageError(`--${flag} must be a number ≥ ${min}`);
    return n;
  };
  const int = (flag: string, value: string | undefined, fallback: number, min = 1) =>
    Math.floor(number(flag, value, fallback, min));

  const targets = list(values.targets, TARGET_IDS, 'targets') ?? [
    ...(urls.length > 0 ? (['url'] as const) : []),
    ...(smoke ? SMOKE_TARGETS : DEFAULT_TARGETS),
  ];
  if (targets.includes('url') && urls.length === 0) throw new UsageError('target url needs --url');
  let scenarios = list(values.scenarios, SCENARIO_IDS, 'scenarios') ?? [...DEFAULT_SCENARIOS];
  if (values.saturation && !scenarios.includes('saturation')) scenarios = [...scenarios, 'saturation'];

  const settings: ScenarioSettings = {
    ...base,
    durationMs: number('duration', values.duration, base.durationMs / 1000, 0.1) * 1000,
    textBytes: int('text-bytes', values['text-bytes'], base.textBytes, 8),
    fanout: {
      clients: int('fanout-clients', values['fanout-clients'], base.fanout.clients),
      ratePerS: number('fanout-rate', values['fanout-rate'], base.fanout.ratePerS, 0.1),
    },
    smallRooms: {
      clients: int('rooms-clients', values['rooms-clients'], base.smallRooms.clients),
      roomSize: int('room-size', values['room-size'], base.smallRooms.roomSize),
      ratePerS: number('rooms-rate', values['rooms-rate'], base.smallRooms.ratePerS, 0.1),
      placement: placement(values.placement, base.smallRooms.placement),
    },
    idle: {
      ...base.idle,
      connections: int('idle-connections', values['idle-connections'], base.idle.connections),
    },
    rejoinStorm: {
      ...base.rejoinStorm,
      clients: int('storm-clients', values['storm-clients'], base.rejoinStorm.clients),
      roomSize: int('storm-room-size', values['storm-room-size'], base.rejoinStorm.roomSize),
    },
  };
  settings.saturation = { ...base.saturation, startRatePerS: settings.smallRooms.ratePerS };
  if (settings.smallRooms.roomSize > settings.smallRooms.clients) {
    throw new UsageError('--room-size must not exceed --rooms-clients');
  }

  return {
    targets: [...new Set(targets)],
    scenarios: [...new Set(scenarios)],
    urls,
    reps: int('reps', values.reps, smoke ? 1 : 3),
    settings,
    warmup: !smoke && !values['no-warmup'],
    smoke,
    outDir: values.out,
  };
}

function placement(value: string | undefined, fallback: Placement): Placement {
  if (value === undefined) return fallback;
  const found = PLACEMENTS.find((p) => p === value);
  if (!found) throw new UsageError(`--placement must be one of ${PLACEMENTS.join(', ')}`);
  return found;
}

function list<T extends string>(
  value: string | undefined,
  known: readonly T[],
  flag: string,
): T[] | undefined {
  if (value === undefined) return undefined;
  const items = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = items.filter((item) => !known.includes(item as T));
  if (unknown.length > 0)
    throw new UsageError(`--${flag}: unknown ${unknown.join(', ')} (known: ${known.join(', ')})`);
  if (items.length === 0) throw new UsageError(`--${flag} needs at least one name`);
  return items as T[];
}
