// Reading the repository's deployment files (YAML, Kubernetes objects, Compose values) for test/deploy/.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

/** The repository root. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export function repoPath(...segments: string[]): string {
  return join(ROOT, ...segments);
}

export function readRepoFile(...segments: string[]): string {
  return readFileSync(repoPath(...segments), 'utf8');
}

// ---------------------------------------------------------------------------------------------------- YAML

/**
 * Every document of a YAML file as plain data. Merge keys (`<<: *anchor`) are resolved as Docker Compose does;
 * a syntax error, a duplicate key or a warning fails with the file's name.
 */
export function loadYamlDocuments(path: string): unknown[] {
  const docs = parseAllDocuments(readFileSync(path, 'utf8'), {
    merge: true,
    uniqueKeys: true,
    prettyErrors: true,
  });
  if (!Array.isArray(docs)) throw new Error(`${path}: not YAML documents`);
  return docs
    .map((doc) => {
      const problems = [...doc.errors, ...doc.warnings];
      if (problems.length > 0) throw new Error(`${path}: ${problems.map((p) => p.message).join('; ')}`);
      return doc.toJS({ maxAliasCount: 100 }) as unknown;
    })
    .filter((doc) => doc !== null && doc !== undefined);
}

/** A loosely typed view of parsed YAML: tests assert the shape they rely on. */
// biome-ignore lint/suspicious/noExplicitAny: parsed manifests are checked field by field by the tests.
export type Yaml = any;

// ---------------------------------------------------------------------------------------------- Kubernetes

export const K8S_DIR = repoPath('deploy', 'k8s');

export interface K8sObject {
  file: string;
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; namespace?: string };
  spec?: Yaml;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
  [key: string]: Yaml;
}

/** The YAML files in deploy/k8s, by file name. */
export function k8sFiles(): string[] {
  return readdirSync(K8S_DIR)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort();
}

/** Every Kubernetes object in deploy/k8s (the kustomization excepted), tagged with its file. */
export function loadK8sObjects(): K8sObject[] {
  return k8sFiles()
    .filter((f) => !/^kustomization\.ya?ml$/.test(f))
    .flatMap((file) =>
      loadYamlDocuments(join(K8S_DIR, file)).map((doc) => ({ ...(doc as K8sObject), file })),
    );
}

/** The one object of `kind` (and `name`, when given); fails when there is none or more than one. */
export function only(objects: K8sObject[], kind: string, name?: string): K8sObject {
  const found = objects.filter((o) => o.kind === kind && (name === undefined || o.metadata?.name === name));
  if (found.length !== 1) {
    throw new Error(
      `expected one ${kind}${name ? ` named ${name}` : ''} in deploy/k8s, found ${found.length}`,
    );
  }
  return found[0]!;
}

/** Whether a `matchLabels` selector (or a Service's plain selector) selects pods carrying `labels`. */
export function selects(
  selector: Record<string, string> | { matchLabels?: Record<string, string>; matchExpressions?: unknown[] },
  labels: Record<string, string> | undefined,
): boolean {
  const isLabelSelector = 'matchLabels' in selector || 'matchExpressions' in selector;
  if (isLabelSelector && (selector as { matchExpressions?: unknown[] }).matchExpressions?.length) {
    throw new Error('matchExpressions are not understood by this check; use matchLabels');
  }
  const wanted = (
    isLabelSelector ? (selector as { matchLabels?: Record<string, string> }).matchLabels : selector
  ) as Record<string, string> | undefined;
  if (!wanted || Object.keys(wanted).length === 0) return false;
  return Object.entries(wanted).every(([key, value]) => labels?.[key] === value);
}

// ------------------------------------------------------------------------------------------------- Compose

/**
 * Docker Compose variable interpolation of one value: `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `$VAR`, `$$`.
 * Unset variables become the default or the empty string.
 */
export function interpolate(value: string, env: Record<string, string | undefined> = {}): string {
  return value.replace(
    /\$\$|\$\{(\w+)(?:(:?-)([^}]*))?\}|\$(\w+)/g,
    (whole, braced?: string, op?: string, fallback?: string, bare?: string) => {
      if (whole === '$$') return '$';
      const name = (braced ?? bare)!;
      const current = env[name];
      if (op === ':-') return current ? current : (fallback ?? '');
      if (op === '-') return current ?? fallback ?? '';
      return current ?? '';
    },
  );
}

/** A Compose `environment` (map or `KEY=value` list) as a record, interpolated. */
export function composeEnvironment(environment: Yaml): Record<string, string> {
  const entries: [string, string][] = Array.isArray(environment)
    ? environment.map((item: string) => {
        const at = item.indexOf('=');
        return at < 0 ? [item, ''] : [item.slice(0, at), item.slice(at + 1)];
      })
    : Object.entries(environment ?? {}).map(([k, v]) => [k, v === null ? '' : String(v)]);
  return Object.fromEntries(entries.map(([k, v]) => [k, interpolate(v)]));
}

/** Compose durations (`15s`, `1m30s`, `500ms`) in milliseconds. */
export function composeDurationMs(value: string): number {
  const units: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 0.001 };
  let total = 0;
  const rest = value.replace(/(\d+(?:\.\d+)?)(h|ms|m|s|us)/g, (_, n: string, unit: string) => {
    total += Number(n) * units[unit]!;
    return '';
  });
  if (rest !== '' || value === '') throw new Error(`not a Compose duration: "${value}"`);
  return total;
}
