// Reading deploy/haproxy/haproxy.cfg the way HAProxy does, as far as the deployment tests need.

export interface HaproxySection {
  type: string;
  name: string | undefined;
  /** Directive lines, comments and blank lines dropped, `${VAR}` expanded. */
  lines: string[];
}

const HAPROXY_SECTIONS =
  /^(global|defaults|frontend|backend|listen|resolvers|peers|userlist|program|http-errors|cache|ring|log-forward|mailers|crt-store|traces)\b\s*(\S+)?/;
const HAPROXY_VARIABLE = /"?\$\{(\w+)(?:-([^}]*))?\}"?/g;

function stripHaproxyComment(raw: string): string {
  return raw.replace(/(^|\s)#.*$/, '').trim();
}

/** Every environment variable haproxy.cfg reads (in directives or `.if defined(...)`), with its default if any. */
export function haproxyVariables(text: string): Map<string, string | undefined> {
  const found = new Map<string, string | undefined>();
  for (const line of text.split('\n').map(stripHaproxyComment)) {
    for (const match of line.matchAll(HAPROXY_VARIABLE)) found.set(match[1]!, match[2]);
    for (const match of line.matchAll(/defined\((\w+)\)/g))
      if (!found.has(match[1]!)) found.set(match[1]!, undefined);
  }
  return found;
}

/**
 * haproxy.cfg as HAProxy would read it with `env`: `.if defined(VAR)` / `.elif` / `.else` / `.endif` blocks
 * decided, `"${VAR}"` and `"${VAR-default}"` expanded, then split into sections.
 */
export function readHaproxyConfig(text: string, env: Record<string, string>): HaproxySection[] {
  const condition = (expression: string): boolean => {
    const match = /^(!?)defined\((\w+)\)$/.exec(expression.trim());
    if (!match) throw new Error(`haproxy.cfg: condition not understood by this check: ${expression}`);
    return (env[match[2]!] !== undefined) !== (match[1] === '!');
  };
  // One frame per open .if: whether its enclosing block is active, whether a branch was taken, whether this one is.
  const stack: { outer: boolean; taken: boolean; active: boolean }[] = [];
  const active = () => stack.at(-1)?.active ?? true;
  const sections: HaproxySection[] = [];
  for (const raw of text.split('\n')) {
    const line = stripHaproxyComment(raw);
    if (line === '') continue;
    const directive = /^\.(if|elif|else|endif)\b\s*(.*)$/.exec(line);
    if (directive) {
      const [, keyword, expression = ''] = directive;
      const top = stack.at(-1);
      if (keyword === 'if') {
        const on = active() && condition(expression);
        stack.push({ outer: active(), taken: on, active: on });
      } else if (!top) {
        throw new Error(`haproxy.cfg: .${keyword} without .if`);
      } else if (keyword === 'elif') {
        top.active = top.outer && !top.taken && condition(expression);
        top.taken ||= top.active;
      } else if (keyword === 'else') {
        top.active = top.outer && !top.taken;
        top.taken = true;
      } else {
        stack.pop();
      }
      continue;
    }
    if (!active()) continue;
    const expanded = line.replace(
      HAPROXY_VARIABLE,
      (_, name: string, fallback?: string) => env[name] ?? fallback ?? '',
    );
    const header = HAPROXY_SECTIONS.exec(expanded);
    if (header && !/^\s/.test(raw)) sections.push({ type: header[1]!, name: header[2], lines: [] });
    else sections.at(-1)?.lines.push(expanded);
  }
  if (stack.length > 0) throw new Error('haproxy.cfg: .if without .endif');
  return sections;
}

/** The paths HAProxy's HTTP health checks request (`option httpchk GET /x` or `http-check send ... uri /x`). */
export function haproxyCheckPaths(sections: HaproxySection[]): string[] {
  const paths: string[] = [];
  for (const line of sections.flatMap((s) => s.lines)) {
    const legacy = /^option\s+httpchk\s+\S+\s+(\/\S*)/.exec(line);
    const send = /^http-check\s+send\b.*\buri\s+(\S+)/.exec(line);
    const path = legacy?.[1] ?? send?.[1];
    if (path) paths.push(path);
  }
  return paths;
}

/** The gateway's port in a Dockerfile's runtime stage (its one EXPOSE). */
