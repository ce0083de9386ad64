import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryDeps, type GatewayDeps } from '../../apps/gateway/src/deps';
import { createGateway, type Gateway } from '../../apps/gateway/src/gateway';
import { testLogger } from '../support/cluster';
import {
  composeEnvironment,
  loadK8sObjects,
  loadYamlDocuments,
  only,
  readRepoFile,
  repoPath,
  type Yaml,
} from '../support/deploy-files';
import { parseDockerfile, parseExecForm } from '../support/dockerfile';
import { haproxyCheckPaths, readHaproxyConfig } from '../support/haproxy-config';
import { freePort } from '../support/ports';
import { eventually } from '../support/wait';

/** Every HTTP path something outside the gateway polls, by what a failure does to the gateway. */
function probePaths(): { liveness: Map<string, string>; readiness: Map<string, string> } {
  const liveness = new Map<string, string>();
  const readiness = new Map<string, string>();
  const pathIn = (script: string) => /['"](?:https?:\/\/[^'"/]*)?(\/[\w/-]*)['"]/.exec(script)?.[1];

  const dockerfile = parseDockerfile(readRepoFile('Dockerfile'));
  const check = dockerfile.stages.at(-1)!.instructions.find((i) => i.keyword === 'HEALTHCHECK')!;
  liveness.set('Dockerfile HEALTHCHECK', pathIn(parseExecForm(check.args.replace(/^CMD\s+/, ''))[2]!)!);

  const compose = loadYamlDocuments(repoPath('docker-compose.yml'))[0] as Yaml;
  for (const [name, service] of Object.entries<Yaml>(compose.services)) {
    if (service.build !== '.') continue;
    liveness.set(`compose ${name} healthcheck`, pathIn(service.healthcheck.test.at(-1))!);
  }

  const deployment = only(loadK8sObjects(), 'Deployment');
  for (const container of deployment.spec.template.spec.containers) {
    for (const probe of ['livenessProbe', 'startupProbe'] as const) {
      if (container[probe]) liveness.set(`k8s ${container.name} ${probe}`, container[probe].httpGet.path);
    }
    readiness.set(`k8s ${container.name} readinessProbe`, container.readinessProbe.httpGet.path);
  }

  const haproxy = readHaproxyConfig(
    readRepoFile('deploy', 'haproxy', 'haproxy.cfg'),
    composeEnvironment(compose.services.haproxy.environment),
  );
  for (const path of haproxyCheckPaths(haproxy)) readiness.set('haproxy.cfg http-check', path);
  return { liveness, readiness };
}

const running: { server: Server; gateway: Gateway }[] = [];
afterEach(async () => {
  for (const { gateway } of running.splice(0)) await gateway.close();
});

async function startGateway(deps: GatewayDeps): Promise<string> {
  const server = createServer();
  // No readiness grace: a Redis that does not answer takes the gateway out of rotation at once.
  const gateway = createGateway(server, deps, {
    nodeId: 'probe-check',
    logger: testLogger(),
    readinessGraceMs: 0,
  });
  running.push({ server, gateway });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A gateway whose Redis does not answer: alive, not ready. */
function unreachableRedis(): GatewayDeps {
  return {
    ...createMemoryDeps(),
    checkReady: () => Promise.reject(new Error('redis unreachable')),
  };
}

/** Runs the Dockerfile's HEALTHCHECK command as Docker would, against `port`; resolves to its exit code. */
function runImageHealthcheck(port: number): Promise<number> {
  const dockerfile = parseDockerfile(readRepoFile('Dockerfile'));
  const check = dockerfile.stages.at(-1)!.instructions.find((i) => i.keyword === 'HEALTHCHECK')!;
  const [, ...args] = parseExecForm(check.args.replace(/^CMD\s+/, ''));
  return new Promise((resolve) => {
    execFile(process.execPath, args, { env: { PORT: String(port) }, timeout: 5000 }, (error) =>
      resolve(error ? Number(error.code ?? 1) : 0),
    );
  });
}

describe('health check paths in the deployment files', () => {
  it('are found in the Dockerfile, compose file, Kubernetes manifests and haproxy.cfg', () => {
    const { liveness, readiness } = probePaths();
    expect(liveness.size).toBeGreaterThanOrEqual(5);
    expect(readiness.size).toBeGreaterThanOrEqual(2);
    for (const [where, path] of [...liveness, ...readiness]) expect(path, where).toMatch(/^\/\w/);
  });

  it('answer 200 on a gateway that is up and ready', async () => {
    const url = await startGateway(createMemoryDeps());
    const { liveness, readiness } = probePaths();
    for (const [where, path] of [...liveness, ...readiness]) {
      expect((await fetch(url + path)).status, `${where}: ${path}`).toBe(200);
    }
  });

  it('keep a gateway alive but take it out of rotation while Redis does not answer', async () => {
    const url = await startGateway(unreachableRedis());
    const { liveness, readiness } = probePaths();
    for (const [where, path] of liveness)
      expect((await fetch(url + path)).status, `${where}: ${path}`).toBe(200);
    for (const [where, path] of readiness) {
      await eventually(async () => expect((await fetch(url + path)).status, `${where}: ${path}`).toBe(503));
    }
  });

  it('take a draining gateway out of rotation through the readiness paths only', async () => {
    // The paths are read first: parsing the deploy files must not eat into the drain's notice.
    const { liveness, readiness } = probePaths();
    const url = await startGateway(createMemoryDeps());
    const { gateway } = running.at(-1)!;
    const closing = gateway.close({ noticeMs: 1_000 });
    for (const [where, path] of readiness)
      expect((await fetch(url + path)).status, `${where}: ${path}`).toBe(503);
    for (const [where, path] of liveness)
      expect((await fetch(url + path)).status, `${where}: ${path}`).toBe(200);
    await closing;
  });

  it('serve Prometheus metrics where the gateway pods announce them, on the container port', async () => {
    const pod = only(loadK8sObjects(), 'Deployment').spec.template;
    const annotations: Record<string, string> = pod.metadata.annotations ?? {};
    expect(annotations['prometheus.io/scrape']).toBe('true');
    const ports = pod.spec.containers.flatMap((c: Yaml) => c.ports.map((p: Yaml) => String(p.containerPort)));
    expect(ports).toContain(annotations['prometheus.io/port']);
    const url = await startGateway(createMemoryDeps());
    const res = await fetch(url + annotations['prometheus.io/path']);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
  });

  it("passes the image's HEALTHCHECK command against a live gateway and fails it against a closed port", async () => {
    const url = await startGateway(createMemoryDeps());
    expect(await runImageHealthcheck(Number(new URL(url).port))).toBe(0);
    expect(await runImageHealthcheck(await freePort())).not.toBe(0);
  });
});
