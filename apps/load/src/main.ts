import { parseArgs } from 'node:util';
import { runLoad } from './load';

const USAGE = `usage: npm run load -- [--url URL ...] [--clients N] [--rooms N] [--rate MSG_PER_S] [--duration S] [--polling]
Runs N SDK clients against a Chorus cluster (default http://127.0.0.1:8080) and prints throughput,
latencies and delivery counts as JSON. Traffic goes only where --url points; keep it on your own machine.`;

const { values } = parseArgs({
  options: {
    url: { type: 'string', multiple: true },
    clients: { type: 'string', default: '50' },
    rooms: { type: 'string', default: '5' },
    rate: { type: 'string', default: '2' },
    duration: { type: 'string', default: '10' },
    polling: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});

if (values.help) {
  console.log(USAGE);
  process.exit(0);
}

const numbers = {
  clients: Number(values.clients),
  rooms: Number(values.rooms),
  rate: Number(values.rate),
  duration: Number(values.duration),
};
for (const [name, value] of Object.entries(numbers)) {
  if (!Number.isFinite(value) || value <= 0) {
    console.error(`load: --${name} must be a positive number\n${USAGE}`);
    process.exit(2);
  }
}

const report = await runLoad({
  urls: values.url?.length ? values.url : ['http://127.0.0.1:8080'],
  clients: Math.floor(numbers.clients),
  rooms: Math.floor(numbers.rooms),
  rate: numbers.rate,
  durationMs: numbers.duration * 1000,
  ...(values.polling ? { transports: ['polling' as const] } : {}),
  progress: (line) => console.error(`load: ${line}`),
}).catch((error: unknown) => {
  console.error(`load: ${(error as Error).message}`);
  process.exit(1);
});
console.log(JSON.stringify(report, null, 2));
process.exit(report.lost === 0 && report.duplicated === 0 ? 0 : 1);
