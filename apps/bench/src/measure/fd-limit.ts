import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** The open-file limits of this process (its children inherit them). */
export interface FileLimit {
  soft: number;
  hard: number;
}

/**
 * Node has no `getrlimit`, so read the limit the kernel applies to this process: `/proc/self/limits` on Linux,
 * else what a child shell inherits (`ulimit -Sn` / `-Hn`). Undefined when neither answers or it is unlimited.
 */
export function openFileLimit(): FileLimit | undefined {
  try {
    const match = /^Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/m.exec(
      readFileSync('/proc/self/limits', 'utf8'),
    );
    if (match) return { soft: toLimit(match[1]!), hard: toLimit(match[2]!) };
  } catch {
    // Not Linux: ask a shell.
  }
  try {
    const [soft, hard] = execFileSync('sh', ['-c', 'ulimit -Sn; ulimit -Hn'], { encoding: 'utf8' })
      .trim()
      .split('\n');
    return { soft: toLimit(soft ?? ''), hard: toLimit(hard ?? '') };
  } catch {
    return undefined;
  }
}

function toLimit(text: string): number {
  return text === 'unlimited' ? Number.POSITIVE_INFINITY : Number(text);
}

/**
 * Why `connections` sockets (each needing a descriptor here and one in a server process started from here)
 * cannot be opened, or undefined when the limit allows them.
 */
export function fileLimitProblem(connections: number): string | undefined {
  const limit = openFileLimit();
  // Headroom for Redis connections, pipes, the module files tsx opens and the HTTP probes.
  const needed = connections + 512;
  if (!limit || limit.soft >= needed) return undefined;
  return (
    `needs at least ${needed} open files per process but the limit is ${limit.soft} (hard ${limit.hard}); ` +
    'run `ulimit -n 65536` in this shell (as root, or after raising the hard limit) and start the bench again'
  );
}
