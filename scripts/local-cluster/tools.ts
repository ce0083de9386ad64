import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** How to get each external program the local cluster runs. */
const INSTALL_HINTS: Record<string, string> = {
  'redis-server': 'Debian/Ubuntu: sudo apt-get install redis-server · macOS: brew install redis',
  haproxy: 'Debian/Ubuntu: sudo apt-get install haproxy · macOS: brew install haproxy',
  nginx: 'Debian/Ubuntu: sudo apt-get install nginx · macOS: brew install nginx',
};

/** One or more programs are not installed; the message says how to install each. */
export class MissingToolError extends Error {
  override name = 'MissingToolError';
  constructor(readonly missing: string[]) {
    super(
      [
        `${missing.join(' and ')} ${missing.length === 1 ? 'is' : 'are'} not installed (looked on PATH and in /usr/sbin).`,
        ...missing.map(
          (name) => `  ${name}: ${INSTALL_HINTS[name] ?? 'install it with your package manager'}`,
        ),
      ].join('\n'),
    );
  }
}

/** The full path of `name` on PATH, or in the sbin folders where Debian puts daemons; undefined if absent. */
export function findTool(name: string): string | undefined {
  const folders = [
    ...(process.env.PATH ?? '').split(delimiter),
    '/usr/local/sbin',
    '/usr/sbin',
    '/sbin',
    '/opt/homebrew/bin',
  ];
  for (const folder of folders) {
    if (!folder) continue;
    const candidate = join(folder, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not here.
    }
  }
  return undefined;
}

/** Paths of every program in `names`; throws one `MissingToolError` naming all that are missing. */
export function requireTools<N extends string>(names: readonly N[]): Record<N, string> {
  const found = {} as Record<N, string>;
  const missing: string[] = [];
  for (const name of names) {
    const path = findTool(name);
    if (path) found[name] = path;
    else missing.push(name);
  }
  if (missing.length > 0) throw new MissingToolError(missing);
  return found;
}
