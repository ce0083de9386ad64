import type { ScenarioId } from '../scenarios/scenario';
import type { TargetId } from '../targets/target';

/** A comparison of one figure between two targets. */
export interface RatioSpec {
  scenarios: readonly ScenarioId[];
  name: string;
  key: string;
  a: TargetId;
  b: TargetId;
  /** Compare the reciprocal (CPU per delivery from deliveries per CPU-second). */
  invert?: boolean;
  meaning: string;
}

const TRAFFIC: readonly ScenarioId[] = ['fanout', 'small-rooms'];

/** The comparisons the scale-out issue asks for. */
export const RATIOS: readonly RatioSpec[] = [
  {
    scenarios: TRAFFIC,
    name: 'chorus-3 ÷ classic, deliveries per CPU-second',
    key: 'deliveriesPerCpuS',
    a: 'chorus-3',
    b: 'classic',
    meaning: '> 1: Chorus on 3 nodes delivers more per CPU-second than the Redis-adapter relay',
  },
  {
    scenarios: TRAFFIC,
    name: 'chorus-1 ÷ plain, deliveries per CPU-second',
    key: 'deliveriesPerCpuS',
    a: 'chorus-1',
    b: 'plain',
    meaning: '< 1: what persistence, seq and validation cost against a bare relay',
  },
  {
    scenarios: TRAFFIC,
    name: 'chorus-3 ÷ chorus-1, CPU per delivery',
    key: 'deliveriesPerCpuS',
    a: 'chorus-3',
    b: 'chorus-1',
    invert: true,
    meaning: 'the price of scale-out (Redis and the bus) per delivery; 1 = free',
  },
  {
    scenarios: TRAFFIC,
    name: 'chorus-3-cluster ÷ chorus-3, CPU per delivery',
    key: 'deliveriesPerCpuS',
    a: 'chorus-3-cluster',
    b: 'chorus-3',
    invert: true,
    meaning: 'the price of a Redis Cluster over one Redis per delivery',
  },
  {
    scenarios: TRAFFIC,
    name: 'classic ÷ plain, CPU per delivery',
    key: 'deliveriesPerCpuS',
    a: 'classic',
    b: 'plain',
    invert: true,
    meaning: 'the price of scale-out for the Redis-adapter relay',
  },
  {
    scenarios: TRAFFIC,
    name: 'chorus-3 ÷ classic, p99 latency',
    key: 'latencyP99Ms',
    a: 'chorus-3',
    b: 'classic',
    meaning: '< 1: Chorus answers faster at the tail',
  },
  {
    scenarios: ['idle'],
    name: 'chorus-1 ÷ plain, heap per idle connection',
    key: 'extra.heapPerConnectionB',
    a: 'chorus-1',
    b: 'plain',
    meaning: 'memory a Chorus connection costs over a bare Socket.IO one',
  },
  {
    scenarios: ['rejoin-storm'],
    name: 'chorus-1 ÷ plain, joins per second',
    key: 'extra.joinsPerS',
    a: 'chorus-1',
    b: 'plain',
    meaning: 'a Chorus join (history, presence) against a bare socket.join',
  },
  {
    scenarios: ['rejoin-storm'],
    name: 'chorus-3 ÷ chorus-1, joins per second',
    key: 'extra.joinsPerS',
    a: 'chorus-3',
    b: 'chorus-1',
    meaning: 'joins through Redis against joins in memory',
  },
  {
    scenarios: ['no-member-gateway'],
    name: 'chorus-3 ÷ classic, CPU of a gateway without members',
    key: 'extra.noMemberRatio',
    a: 'chorus-3',
    b: 'classic',
    meaning: '< 1: a room-scoped bus spares the gateways that host nobody',
  },
  {
    scenarios: ['saturation'],
    name: 'chorus-3 ÷ classic, highest rate held',
    key: 'extra.heldRatePerS',
    a: 'chorus-3',
    b: 'classic',
    meaning: '> 1: Chorus on 3 nodes carries more before it breaks',
  },
];
