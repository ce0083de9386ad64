import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type LineSink, launch, waitFor } from './process';

/** The production template; see its header for the variables. */
export const NGINX_TEMPLATE = fileURLToPath(new URL('../../deploy/nginx/nginx.conf', import.meta.url));

const GATEWAY = placeholder('GATEWAY');
const LB_PORT = placeholder('LB_PORT');

function placeholder(name: string): string {
  return `\${${name}}`;
}

/**
 * Fills in deploy/nginx/nginx.conf: every directive holding `${GATEWAY}` is repeated once per gateway
 * address, and `${LB_PORT}` is replaced. nginx's own `$variables` are left alone; a `${NAME}` that nothing
 * fills in is an error.
 */
export function renderNginxConfig(template: string, values: { port: number; gateways: string[] }): string {
  if (values.gateways.length === 0) throw new Error('nginx needs at least one gateway');
  const rendered = template
    .split('\n')
    .flatMap((line) =>
      line.includes(GATEWAY) && !line.trimStart().startsWith('#')
        ? values.gateways.map((address) => line.replaceAll(GATEWAY, address))
        : [line],
    )
    .join('\n')
    .replaceAll(LB_PORT, String(values.port));
  const unfilled = rendered
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('#'))
    .join('\n')
    .match(/\$\{[A-Za-z_][A-Za-z0-9_]*\}/);
  if (unfilled) throw new Error(`deploy/nginx/nginx.conf uses ${unfilled[0]}, which nothing fills in`);
  return rendered;
}

export interface LocalNginx {
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
}

/** Renders the template into a temporary folder and runs nginx on it in the foreground. */
export async function startNginx(options: {
  binary: string;
  port: number;
  gateways: string[];
  onLine?: LineSink;
}): Promise<LocalNginx> {
  const dir = mkdtempSync(join(tmpdir(), 'chorus-cluster-nginx-'));
  const config = join(dir, 'nginx.conf');
  writeFileSync(config, renderNginxConfig(readFileSync(NGINX_TEMPLATE, 'utf8'), options));
  // pid and daemon are main-context settings that belong to how it is run, not to the shared template.
  const args = ['-p', dir, '-c', config, '-e', 'stderr', '-g', `daemon off; pid ${join(dir, 'nginx.pid')};`];
  const proc = launch('nginx', options.binary, args, { onLine: options.onLine });
  const stop = async () => {
    // SIGTERM is nginx's fast shutdown; SIGQUIT would wait for every WebSocket to end.
    await proc.stop('SIGTERM', 5_000);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(`nginx on port ${options.port}`, () => {
      if (!proc.running()) throw new Error(`nginx exited:\n${proc.tail()}`);
      return listening(options.port);
    });
  } catch (error) {
    await stop();
    throw error;
  }
  return { url: `http://127.0.0.1:${options.port}`, port: options.port, stop };
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.on('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}
