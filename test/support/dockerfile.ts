// Reading the Dockerfile and .dockerignore the way BuildKit does, as far as the deployment tests need.

export interface DockerInstruction {
  keyword: string;
  /** Leading `--name=value` options (FROM, COPY, RUN, HEALTHCHECK). */
  flags: Record<string, string>;
  /** The rest of the instruction, continuation lines joined. */
  args: string;
  line: number;
}

export interface DockerStage {
  name: string | undefined;
  /** The base image, build arguments substituted. */
  from: string;
  instructions: DockerInstruction[];
}

export interface Dockerfile {
  /** ARG defaults declared before the first FROM. */
  globalArgs: Record<string, string>;
  stages: DockerStage[];
}

function splitFlags(text: string): { flags: Record<string, string>; rest: string } {
  const flags: Record<string, string> = {};
  let rest = text;
  for (;;) {
    const match = /^--([a-z-]+)(?:=(\S*))?\s*/.exec(rest);
    if (!match) return { flags, rest };
    flags[match[1]!] = match[2] ?? 'true';
    rest = rest.slice(match[0].length);
  }
}

/**
 * Parses a Dockerfile into stages of instructions the way BuildKit reads it: comment lines dropped (also inside
 * continuations), `\` continuations joined, `FROM ... AS name` starting a stage, `${ARG}` in FROM substituted.
 */
export function parseDockerfile(text: string): Dockerfile {
  const logical: { text: string; line: number }[] = [];
  let pending: { text: string; line: number } | undefined;
  text.split('\n').forEach((raw, index) => {
    const line = raw.trimEnd();
    if (/^\s*#/.test(line) || (line.trim() === '' && !pending)) return;
    const continues = line.endsWith('\\');
    const body = continues ? line.slice(0, -1) : line;
    pending = pending
      ? { text: `${pending.text} ${body.trim()}`, line: pending.line }
      : { text: body.trim(), line: index + 1 };
    if (!continues) {
      logical.push(pending);
      pending = undefined;
    }
  });
  if (pending) throw new Error(`Dockerfile line ${pending.line}: continuation at end of file`);

  const globalArgs: Record<string, string> = {};
  const stages: DockerStage[] = [];
  for (const { text: instruction, line } of logical) {
    const match = /^([A-Za-z]+)\s*(.*)$/.exec(instruction);
    if (!match) throw new Error(`Dockerfile line ${line}: cannot read "${instruction}"`);
    const keyword = match[1]!.toUpperCase();
    const { flags, rest } = ['FROM', 'COPY', 'ADD', 'RUN', 'HEALTHCHECK'].includes(keyword)
      ? splitFlags(match[2]!)
      : { flags: {}, rest: match[2]! };
    if (keyword === 'FROM') {
      const from = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(rest);
      if (!from) throw new Error(`Dockerfile line ${line}: cannot read FROM "${rest}"`);
      const image = from[1]!.replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a, b) => {
        const value = globalArgs[a ?? b];
        if (value === undefined) throw new Error(`Dockerfile line ${line}: ARG ${a ?? b} has no default`);
        return value;
      });
      stages.push({ name: from[2], from: image, instructions: [] });
      continue;
    }
    const stage = stages.at(-1);
    if (!stage) {
      if (keyword !== 'ARG') throw new Error(`Dockerfile line ${line}: ${keyword} before the first FROM`);
      const arg = /^(\w+)(?:=(.*))?$/.exec(rest);
      if (arg) globalArgs[arg[1]!] = unquote(arg[2] ?? '');
      continue;
    }
    stage.instructions.push({ keyword, flags, args: rest, line });
  }
  return { globalArgs, stages };
}

function unquote(value: string): string {
  return /^(["']).*\1$/.test(value) ? value.slice(1, -1) : value;
}

/** `ENV A=1 B="two"` (or the legacy `ENV A 1`) as a record. */
export function parseEnvInstruction(args: string): Record<string, string> {
  const legacy = /^(\w+)\s+([^=]*)$/.exec(args);
  if (legacy) return { [legacy[1]!]: legacy[2]!.trim() };
  const env: Record<string, string> = {};
  for (const match of args.matchAll(/(\w+)=("(?:[^"\\]|\\.)*"|'[^']*'|\S*)/g)) {
    env[match[1]!] = unquote(match[2]!);
  }
  return env;
}

/** A JSON exec-form argument list (`["node", "main.mjs"]`); fails on the shell form. */
export function parseExecForm(args: string): string[] {
  const parsed: unknown = JSON.parse(args);
  if (!Array.isArray(parsed) || !parsed.every((a) => typeof a === 'string')) {
    throw new Error(`not an exec-form list of strings: ${args}`);
  }
  return parsed;
}

/**
 * Whether `.dockerignore` leaves `path` out of the build context: Docker's rules, as far as this repository
 * uses them (`*`, `**`, `?`, `!` exceptions, last match wins, a match on a folder covers what is inside).
 */
export function dockerIgnores(ignoreFile: string, path: string): boolean {
  let ignored = false;
  for (const raw of ignoreFile.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const negated = line.startsWith('!');
    const pattern = (negated ? line.slice(1) : line).replace(/^\/+|\/+$/g, '');
    const source = pattern
      .split('/')
      .map((part) =>
        part === '**'
          ? '.*'
          : part
              .replace(/[.+^${}()|[\]\\]/g, '\\$&')
              .replace(/\*/g, '[^/]*')
              .replace(/\?/g, '[^/]'),
      )
      .join('/')
      .replace(/\.\*\//g, '(?:.*/)?');
    if (new RegExp(`^${source}(?:/.*)?$`).test(path)) ignored = !negated;
  }
  return ignored;
}

export function exposedPort(dockerfile: Dockerfile): number {
  const exposes = dockerfile.stages
    .at(-1)!
    .instructions.filter((i) => i.keyword === 'EXPOSE')
    .flatMap((i) => i.args.split(/\s+/));
  if (exposes.length !== 1)
    throw new Error(`expected one EXPOSE in the runtime stage, found ${exposes.join(' ')}`);
  return Number(exposes[0]!.replace(/\/tcp$/, ''));
}
