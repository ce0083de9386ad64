import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES, loadConfig } from '../../apps/gateway/src/config';
import {
  composeDurationMs,
  composeEnvironment,
  loadYamlDocuments,
  readRepoFile,
  repoPath,
  type Yaml,
} from '../support/deploy-files';
import { exposedPort, parseDockerfile, parseEnvInstruction } from '../support/dockerfile';
import { haproxyVariables, readHaproxyConfig } from '../support/haproxy-config';

const documents = loadYamlDocuments(repoPath('docker-compose.yml'));
const compose = documents[0] as Yaml;
const services: Record<string, Yaml> = compose.services;
const dockerfile = parseDockerfile(readRepoFile('Dockerfile'));
const imagePort = exposedPort(dockerfile);
const imageEnv: Record<string, string> = Object.assign(
  {},
  ...dockerfile.stages
    .at(-1)!
    .instructions.filter((i) => i.keyword === 'ENV')
    .map((i) => parseEnvInstruction(i.args)),
);

/** The services built from the top-level Dockerfile: the gateways. */
const gateways = Object.entries(services).filter(
  ([, s]) => s.build === '.' || (s.build?.context === '.' && !s.build?.dockerfile),
);
const haproxy = services.haproxy;
const HAPROXY_CFG = './deploy/haproxy/haproxy.cfg';

function gatewayEnv(service: Yaml): Record<string, string> {
  return composeEnvironment(service.environment);
}

/** `depends_on` as a record of conditions (`service_started` for the short list form). */
function dependsOn(service: Yaml): Record<string, string> {
  const deps = service.depends_on ?? {};
  if (Array.isArray(deps)) return Object.fromEntries(deps.map((d: string) => [d, 'service_started']));
  return Object.fromEntries(
    Object.entries(deps).map(([k, v]) => [k, (v as Yaml)?.condition ?? 'service_started']),
  );
}

/** `"8080:8080"` / `"127.0.0.1:8080:8080/tcp"` / long syntax as { published, target }. */
function portMappings(service: Yaml): { published: number; target: number }[] {
  return (service.ports ?? []).map((p: Yaml) => {
    if (typeof p === 'object') return { published: Number(p.published), target: Number(p.target) };
    const parts = String(p)
      .replace(/\/\w+$/, '')
      .split(':');
    return { published: Number(parts.at(-2)), target: Number(parts.at(-1)) };
  });
}

function redisPort(): number {
  const command: string[] = services.redis.command;
  const at = command.indexOf('--port');
  return at < 0 ? 6379 : Number(command[at + 1]);
}

describe('docker-compose.yml', () => {
  it('is one YAML document whose anchors resolve into services, with named volumes declared', () => {
    expect(documents).toHaveLength(1);
    for (const key of Object.keys(compose)) expect(key).toMatch(/^(name|services|volumes|networks|x-.+)$/);
    expect(Object.keys(services)).toEqual(expect.arrayContaining(['redis', 'haproxy']));
  });

  it('runs Redis 7 with an append-only file on a named volume, healthy once it answers PING', () => {
    const redis = services.redis;
    expect(redis.image).toMatch(/^redis:7(\.|-|$)/);
    const command: string[] = redis.command;
    expect(command[0]).toBe('redis-server');
    expect(command[command.indexOf('--appendonly') + 1]).toBe('yes');
    const data = (redis.volumes as string[])
      .map((v) => v.split(':'))
      .find(([, target]) => target === '/data');
    expect(data, 'a volume at /data').toBeDefined();
    expect(Object.keys(compose.volumes ?? {})).toContain(data![0]);
    expect(redis.healthcheck.test).toEqual(['CMD', 'redis-cli', 'ping']);
  });

  it('runs three gateways from the Dockerfile, each with its own NODE_ID, on the same Redis once it is healthy', () => {
    expect(gateways.map(([name]) => name)).toEqual(['gateway1', 'gateway2', 'gateway3']);
    const nodeIds = gateways.map(([, s]) => gatewayEnv(s).NODE_ID);
    expect(new Set(nodeIds).size).toBe(3);
    for (const [name, service] of gateways) {
      const redisUrl = new URL(gatewayEnv(service).REDIS_URL ?? '');
      expect(redisUrl.protocol, name).toBe('redis:');
      expect(redisUrl.hostname, name).toBe('redis');
      expect(Number(redisUrl.port || 6379), name).toBe(redisPort());
      expect(dependsOn(service), name).toMatchObject({ redis: 'service_healthy' });
    }
  });

  it('sets only variables the gateway reads, with values it accepts (an unset ADMIN_TOKEN included)', () => {
    for (const [name, service] of gateways) {
      const env = gatewayEnv(service);
      for (const variable of Object.keys(env))
        expect(CONFIG_VARIABLES, `${name}: ${variable}`).toContain(variable);
      const config = loadConfig({ ...imageEnv, ...env });
      expect(config.nodeId).toBe(env.NODE_ID);
      expect(config.logPretty).toBe(false);
    }
  });

  it("has every gateway listen on the image's port, health-checked there on /healthz, reachable only through HAProxy", () => {
    for (const [name, service] of gateways) {
      expect(loadConfig({ ...imageEnv, ...gatewayEnv(service) }).port, name).toBe(imagePort);
      expect((service.expose ?? []).map(Number), name).toContain(imagePort);
      expect(service.ports, name).toBeUndefined();
      const [kind, node, flag, script] = service.healthcheck.test as string[];
      expect([kind, node, flag], name).toEqual(['CMD', 'node', '-e']);
      expect(typeof script, name).toBe('string');
      expect(script, name).toContain(`:${imagePort}/healthz'`);
    }
  });

  it('gives a gateway longer to stop than its graceful drain may take', () => {
    for (const [name, service] of gateways) {
      const config = loadConfig({ ...imageEnv, ...gatewayEnv(service) });
      expect(service.stop_signal ?? 'SIGTERM', name).toBe('SIGTERM');
      expect(composeDurationMs(service.stop_grace_period ?? '10s'), name).toBeGreaterThan(
        config.shutdownTimeoutMs,
      );
    }
  });

  it('puts HAProxy 3 in front, with deploy/haproxy/haproxy.cfg mounted where the image reads it', () => {
    expect(haproxy.image).toMatch(/^haproxy:3\./);
    expect(haproxy.volumes).toContain(`${HAPROXY_CFG}:/usr/local/etc/haproxy/haproxy.cfg:ro`);
    expect(existsSync(repoPath(HAPROXY_CFG))).toBe(true);
    const deps = dependsOn(haproxy);
    for (const [name] of gateways) expect(deps[name], name).toBe('service_healthy');
  });

  it('gives haproxy.cfg the variables it reads, so it balances over exactly the three gateways', () => {
    const text = readRepoFile(HAPROXY_CFG);
    const env = composeEnvironment(haproxy.environment);
    const read = haproxyVariables(text);
    for (const name of Object.keys(env))
      expect([...read.keys()], `haproxy.cfg reads ${name}`).toContain(name);

    const sections = readHaproxyConfig(text, env);
    const frontends = sections.filter((s) => s.type === 'frontend' || s.type === 'listen');
    const binds = frontends.flatMap((s) => s.lines.filter((l) => l.startsWith('bind ')));
    const bindPorts = binds.map((b) => Number(/:(\d+)\b/.exec(b)?.[1]));
    expect(portMappings(haproxy).map((p) => p.target)).toEqual(bindPorts);

    const backendName = frontends[0]!.lines.find((l) => l.startsWith('default_backend '))?.split(/\s+/)[1];
    const backend = sections.find(
      (s) => (s.type === 'backend' || s.type === 'listen') && s.name === backendName,
    );
    expect(backend, `backend ${backendName}`).toBeDefined();
    const servers = backend!.lines.filter((l) => /^server(-template)?\s/.test(l));
    expect(servers.every((l) => l.startsWith('server '))).toBe(true);
    const addresses = servers.map((l) => l.split(/\s+/)[2]);
    expect(addresses).toEqual(gateways.map(([name]) => `${name}:${imagePort}`));
  });

  it('checks that HAProxy answers on its monitor URI', () => {
    const text = readRepoFile(HAPROXY_CFG);
    const sections = readHaproxyConfig(text, composeEnvironment(haproxy.environment));
    const monitor = sections.flatMap((s) => s.lines).find((l) => l.startsWith('monitor-uri '));
    const test: string[] = haproxy.healthcheck.test;
    const port = portMappings(haproxy)[0]!.target;
    expect(test.at(-1)).toBe(`http://127.0.0.1:${port}${monitor!.split(/\s+/)[1]}`);
  });
});
