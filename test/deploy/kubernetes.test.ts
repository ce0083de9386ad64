import { describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES, loadConfig } from '../../apps/gateway/src/config';
import {
  type K8sObject,
  k8sFiles,
  loadK8sObjects,
  loadYamlDocuments,
  only,
  readRepoFile,
  repoPath,
  selects,
  type Yaml,
} from '../support/deploy-files';
import { exposedPort, parseDockerfile } from '../support/dockerfile';

const objects = loadK8sObjects();
const dockerfile = parseDockerfile(readRepoFile('Dockerfile'));
const imagePort = exposedPort(dockerfile);

const deployment = only(objects, 'Deployment');
const podSpec: Yaml = deployment.spec.template.spec;
const podLabels: Record<string, string> = deployment.spec.template.metadata.labels;
const gateway: Yaml = podSpec.containers.find((c: Yaml) => c.name === 'gateway');
const configMap = only(objects, 'ConfigMap');
const secret = only(objects, 'Secret');
const hpa = only(objects, 'HorizontalPodAutoscaler');
const pdb = only(objects, 'PodDisruptionBudget');
const redisSet = only(objects, 'StatefulSet');
const services = objects.filter((o) => o.kind === 'Service');
const [kustomization] = loadYamlDocuments(repoPath('deploy', 'k8s', 'kustomization.yaml')) as Yaml[];
const redisPodLabels: Record<string, string> = redisSet.spec.template.metadata.labels;

/** The Service in front of the gateway pods. */
function gatewayService(): K8sObject {
  const found = services.filter((s) => selects(s.spec.selector, podLabels));
  expect(found).toHaveLength(1);
  return found[0]!;
}

/** What the gateway container's environment holds: ConfigMap and Secret (envFrom), then its own `env` literals. */
function containerEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const source of gateway.envFrom ?? []) {
    if (source.configMapRef) Object.assign(env, only(objects, 'ConfigMap', source.configMapRef.name).data);
    if (source.secretRef) Object.assign(env, only(objects, 'Secret', source.secretRef.name).stringData);
  }
  for (const entry of gateway.env ?? []) {
    if (entry.value !== undefined) env[entry.name] = String(entry.value);
    // A pod name as the Deployment controller makes it: <deployment>-<template hash>-<suffix>.
    if (entry.valueFrom?.fieldRef?.fieldPath === 'metadata.name') {
      env[entry.name] = `${deployment.metadata.name}-7c9d8f6b5d-x2k9q`;
    }
  }
  return env;
}

/** Seconds of a container's preStop hook: the `sleep` action, or `exec` of a node setTimeout / sleep command. */
function preStopSeconds(container: Yaml): number {
  const hook = container.lifecycle?.preStop;
  if (!hook) return 0;
  if (hook.sleep) return Number(hook.sleep.seconds);
  const command = (hook.exec?.command ?? []).join(' ');
  const timeout = /setTimeout\([^,]+,\s*(\d+)\)/.exec(command);
  if (timeout) return Number(timeout[1]) / 1000;
  const sleep = /\bsleep\s+(\d+)/.exec(command);
  if (sleep) return Number(sleep[1]);
  throw new Error(`preStop hook not understood: ${JSON.stringify(hook)}`);
}

function containerPort(container: Yaml, nameOrNumber: string | number): number | undefined {
  const port = (container.ports ?? []).find(
    (p: Yaml) => p.name === nameOrNumber || p.containerPort === nameOrNumber,
  );
  return port?.containerPort;
}

describe('Kubernetes manifests (deploy/k8s)', () => {
  it('parse, name their kind and apiVersion, and are all listed in the kustomization', () => {
    const files = k8sFiles().filter((f) => f !== 'kustomization.yaml');
    expect([...kustomization.resources].sort()).toEqual(files);
    for (const object of objects) {
      expect(object.apiVersion, object.file).toMatch(/^([a-z0-9.]+\/)?v\d+(beta\d+)?$/);
      expect(object.kind, object.file).toMatch(/^[A-Z]\w+$/);
      expect(object.metadata?.name, object.file).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
      // The kustomization sets the namespace for all of them.
      expect(object.metadata.namespace, object.file).toBeUndefined();
    }
    const namespace = only(objects, 'Namespace');
    expect(kustomization.namespace).toBe(namespace.metadata.name);
  });

  it('run the image the kustomization names, on the port the image exposes, named http', () => {
    expect(kustomization.images.map((i: Yaml) => i.name)).toContain(gateway.image);
    expect(gateway.ports).toEqual([{ name: 'http', containerPort: imagePort, protocol: 'TCP' }]);
    expect(loadConfig(containerEnv()).port).toBe(imagePort);
  });

  it('select the gateway pods with the Deployment, the Service, the PDB and the spread constraint', () => {
    expect(selects(deployment.spec.selector, podLabels)).toBe(true);
    expect(selects(pdb.spec.selector, podLabels)).toBe(true);
    expect(selects(gatewayService().spec.selector, podLabels)).toBe(true);
    for (const spread of podSpec.topologySpreadConstraints ?? []) {
      expect(selects(spread.labelSelector, podLabels)).toBe(true);
    }
    // ...and none of them also picks Redis.
    expect(selects(deployment.spec.selector, redisPodLabels)).toBe(false);
    expect(selects(pdb.spec.selector, redisPodLabels)).toBe(false);
    expect(selects(gatewayService().spec.selector, redisPodLabels)).toBe(false);
  });

  it('expose the gateways on port 80 of a ClusterIP Service, sticky by client IP for long-polling', () => {
    const service = gatewayService();
    expect(service.spec.type ?? 'ClusterIP').toBe('ClusterIP');
    expect(service.spec.ports).toHaveLength(1);
    const [port] = service.spec.ports;
    expect(port.port).toBe(80);
    expect(containerPort(gateway, port.targetPort)).toBe(imagePort);
    expect(service.spec.sessionAffinity).toBe('ClientIP');
  });

  it('probe readiness on /readyz and liveness on /healthz, on the named port', () => {
    expect(gateway.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
    expect(gateway.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    if (gateway.startupProbe)
      expect(gateway.startupProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    for (const probe of [gateway.readinessProbe, gateway.livenessProbe, gateway.startupProbe].filter(
      Boolean,
    )) {
      expect(containerPort(gateway, probe.httpGet.port)).toBe(imagePort);
    }
  });

  it('pass the gateway only variables it reads, REDIS_URL and ADMIN_TOKEN from the Secret, all valid', () => {
    for (const name of Object.keys(configMap.data ?? {})) expect(CONFIG_VARIABLES, name).toContain(name);
    for (const name of Object.keys(secret.stringData ?? {})) expect(CONFIG_VARIABLES, name).toContain(name);
    for (const entry of gateway.env ?? []) expect(CONFIG_VARIABLES, entry.name).toContain(entry.name);
    expect(secret.data).toBeUndefined();
    expect(Object.keys(secret.stringData ?? {})).toEqual(
      expect.arrayContaining(['REDIS_URL', 'ADMIN_TOKEN']),
    );
    for (const name of ['REDIS_URL', 'ADMIN_TOKEN']) expect(configMap.data?.[name], name).toBeUndefined();
    expect(gateway.envFrom).toEqual(
      expect.arrayContaining([
        { configMapRef: { name: configMap.metadata.name } },
        { secretRef: { name: secret.metadata.name } },
      ]),
    );

    const config = loadConfig(containerEnv());
    expect(config.redisUrl).toBeDefined();
    expect(config.logPretty).toBe(false);
    expect(config.nodeId).toMatch(new RegExp(`^${deployment.metadata.name}-`));
  });

  it('say where each variable the gateway reads comes from, so a new setting gets a deliberate place', () => {
    const text = k8sFiles()
      .map((f) => readRepoFile('deploy', 'k8s', f))
      .join('\n');
    for (const name of CONFIG_VARIABLES) expect(text, name).toMatch(new RegExp(`\\b${name}\\b`));
  });

  it('name each gateway after its pod', () => {
    const nodeId = (gateway.env ?? []).find((e: Yaml) => e.name === 'NODE_ID');
    expect(nodeId?.valueFrom).toEqual({ fieldRef: { fieldPath: 'metadata.name' } });
  });

  it('point REDIS_URL at the Redis Service, which fronts the StatefulSet on its port', () => {
    const url = new URL(secret.stringData!.REDIS_URL!);
    const service = only(objects, 'Service', url.hostname);
    expect(service.spec.clusterIP).toBe('None');
    expect(redisSet.spec.serviceName).toBe(service.metadata.name);
    expect(selects(service.spec.selector, redisPodLabels)).toBe(true);
    const [port] = service.spec.ports;
    expect(port.port).toBe(Number(url.port || 6379));
    const redis = redisSet.spec.template.spec.containers[0];
    expect(containerPort(redis, port.targetPort)).toBe(port.port);
  });

  it('run Redis with an append-only file on a persistent volume', () => {
    const redis = redisSet.spec.template.spec.containers[0];
    const args: string[] = [...(redis.command ?? []), ...(redis.args ?? [])];
    expect(args[args.indexOf('--appendonly') + 1]).toBe('yes');
    const dir = args[args.indexOf('--dir') + 1];
    const claim = redisSet.spec.volumeClaimTemplates[0];
    expect(claim.spec.accessModes).toEqual(['ReadWriteOnce']);
    expect(redis.volumeMounts).toContainEqual({ name: claim.metadata.name, mountPath: dir });
    // The same Redis major version as docker-compose.yml.
    expect(redis.image).toMatch(/^redis:7(\.|-|$)/);
  });

  it('let only the gateways reach Redis', () => {
    const policy = only(objects, 'NetworkPolicy');
    expect(selects(policy.spec.podSelector, redisPodLabels)).toBe(true);
    expect(policy.spec.ingress).toHaveLength(1);
    const [rule] = policy.spec.ingress;
    expect(rule.from).toHaveLength(1);
    expect(selects(rule.from[0].podSelector, podLabels)).toBe(true);
    expect(rule.ports).toEqual([{ protocol: 'TCP', port: 6379 }]);
  });

  it('give a gateway longer to stop than the preStop pause plus its graceful drain', () => {
    const config = loadConfig(containerEnv());
    const preStop = preStopSeconds(gateway);
    expect(preStop).toBeGreaterThan(0);
    // The preStop pause lets endpoint removal reach every proxy before the drain refuses new connections.
    expect(config.drain.noticeMs).toBeLessThan(config.shutdownTimeoutMs);
    expect(podSpec.terminationGracePeriodSeconds).toBeGreaterThan(preStop + config.shutdownTimeoutMs / 1000);
  });

  it('scale the gateway Deployment between 3 and 10 replicas on 70 % CPU, leaving the count to the autoscaler', () => {
    expect(hpa.apiVersion).toBe('autoscaling/v2');
    expect(hpa.spec.scaleTargetRef).toEqual({
      apiVersion: deployment.apiVersion,
      kind: 'Deployment',
      name: deployment.metadata.name,
    });
    expect([hpa.spec.minReplicas, hpa.spec.maxReplicas]).toEqual([3, 10]);
    expect(hpa.spec.metrics).toEqual([
      {
        type: 'Resource',
        resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } },
      },
    ]);
    // Utilization is relative to the CPU request.
    expect(gateway.resources.requests.cpu).toBeDefined();
    expect(deployment.spec.replicas).toBeUndefined();
  });

  it('let voluntary disruptions take one gateway at a time while keeping at least two', () => {
    expect(pdb.apiVersion).toBe('policy/v1');
    const { maxUnavailable, minAvailable } = pdb.spec;
    if (maxUnavailable !== undefined) {
      expect(maxUnavailable).toBe(1);
      expect(hpa.spec.minReplicas - maxUnavailable).toBeGreaterThanOrEqual(2);
    } else {
      expect(minAvailable).toBeGreaterThanOrEqual(2);
      expect(minAvailable).toBeLessThan(hpa.spec.minReplicas);
    }
    expect(deployment.spec.strategy.rollingUpdate.maxUnavailable).toBe(0);
  });

  it('run every container as non-root, without privilege escalation, capabilities or a writable root', () => {
    const [uid, gid] = dockerfile.stages
      .at(-1)!
      .instructions.filter((i) => i.keyword === 'USER')
      .at(-1)!
      .args.split(':')
      .map(Number);
    expect(podSpec.securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: uid,
      runAsGroup: gid ?? uid,
    });
    for (const workload of [deployment, redisSet]) {
      const spec = workload.spec.template.spec;
      expect(spec.securityContext.runAsNonRoot, workload.metadata.name).toBe(true);
      expect(spec.securityContext.runAsUser, workload.metadata.name).toBeGreaterThan(0);
      expect(spec.securityContext.seccompProfile, workload.metadata.name).toEqual({ type: 'RuntimeDefault' });
      expect(spec.automountServiceAccountToken, workload.metadata.name).toBe(false);
      for (const container of spec.containers) {
        expect(container.securityContext, container.name).toEqual({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ['ALL'] },
        });
        expect(container.resources.requests, container.name).toMatchObject({
          cpu: expect.any(String),
          memory: expect.any(String),
        });
        expect(container.resources.limits.memory, container.name).toEqual(expect.any(String));
      }
    }
  });
});
