import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { RequestMethod } from '@nestjs/common';
import { parseAllDocuments } from 'yaml';
import { adminDashboardProblem, loadConfig, salesforceModeProblem, SECRET_SETTINGS, SETTING_NAMES } from '@presence-sync/config';
import { isRuleFileName, loadRuleSet } from '@presence-sync/rules';
import { HealthController, REDIS_PING_TIMEOUT_MS } from './http/health.controller';
import { PROBE_PATHS } from './http/ops-listener';

/*
 * The Kubernetes manifests under deploy/ against the code they deploy: every variable they set is a setting the
 * daemon reads (and the README lists), the settings load and would boot, secrets stay in the Secret, probes hit
 * routes that exist on the port they use, ports match the settings, the grace period outlasts the drain and the
 * stop, and the pod runs as the hardened, non-root shape the docs promise.
 */

const ROOT = join(__dirname, '..', '..', '..');
const DEPLOY = join(ROOT, 'deploy');

type Json = Record<string, unknown>;
interface Resource { apiVersion: string; kind: string; metadata: { name: string; labels?: Record<string, string> }; spec?: Json; data?: Record<string, string>; stringData?: Record<string, string> }
interface Probe { httpGet: { path: string; port: string | number }; periodSeconds: number; timeoutSeconds: number; failureThreshold: number }
interface Container {
  name: string; image: string;
  ports: { name: string; containerPort: number }[];
  env?: { name: string }[];
  envFrom: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  startupProbe: Probe; livenessProbe: Probe; readinessProbe: Probe;
  lifecycle?: unknown;
  resources: { requests: { cpu: string; memory: string }; limits: { memory: string; cpu?: string } };
  securityContext: { allowPrivilegeEscalation: boolean; readOnlyRootFilesystem: boolean; capabilities: { drop: string[] } };
  volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[];
}
interface PodSpec {
  terminationGracePeriodSeconds: number;
  securityContext: { runAsNonRoot: boolean; runAsUser: number };
  containers: Container[];
  volumes: { name: string; configMap?: { name: string }; emptyDir?: unknown }[];
}

async function resourcesOf(file: string): Promise<Resource[]> {
  const docs = parseAllDocuments(await readFile(join(DEPLOY, file), 'utf8'));
  return docs.map((doc) => {
    if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0].message}`);
    return doc.toJS() as Resource;
  }).filter((r) => r !== null);
}

/** The setting names of the README's configuration table (its rows' backticked upper-case names). */
async function readmeSettings(): Promise<Set<string>> {
  const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('\n## ', readme.indexOf('## Configuration') + 1));
  const rows = section.split('\n').filter((line) => line.startsWith('| `'));
  return new Set(rows.flatMap((row) => [...row.split('|')[1].matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((m) => m[1])));
}

/** The GET routes of the health controller, as paths. */
function healthRoutes(): string[] {
  const proto = HealthController.prototype as unknown as Record<string, unknown>;
  return Object.getOwnPropertyNames(HealthController.prototype)
    .map((name) => proto[name])
    .filter((handler): handler is object => typeof handler === 'function' && Reflect.getMetadata(METHOD_METADATA, handler) === RequestMethod.GET)
    .map((handler) => `/${String(Reflect.getMetadata(PATH_METADATA, handler))}`);
}

/** The largest RSS measured under load (MB, the "RSS peak" column of docs/performance.md), in bytes. */
async function measuredPeakRss(): Promise<number> {
  const lines = (await readFile(join(ROOT, 'docs', 'performance.md'), 'utf8')).split('\n');
  const cells = (line: string) => line.split('|').map((c) => c.trim());
  const header = lines.findIndex((line) => line.startsWith('|') && cells(line).includes('RSS peak'));
  if (header < 0) throw new Error('docs/performance.md has no table with an "RSS peak" column');
  const column = cells(lines[header]).indexOf('RSS peak');
  let peak = 0;
  for (let i = header + 2; lines[i]?.startsWith('|'); i++) {
    const mb = /^([\d,]+) MB$/.exec(cells(lines[i])[column]);
    if (mb) peak = Math.max(peak, Number(mb[1].replace(/,/g, '')) * 1000 ** 2);
  }
  if (peak === 0) throw new Error('docs/performance.md: no "RSS peak" figure read');
  return peak;
}

const bytes = (quantity: string): number => {
  const m = /^(\d+)(Ki|Mi|Gi)?$/.exec(quantity);
  if (!m) throw new Error(`unexpected quantity ${quantity}`);
  return Number(m[1]) * ({ Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3 }[m[2] ?? ''] ?? 1);
};

describe('Kubernetes manifests (deploy/)', () => {
  let all: Resource[];
  let deployment: Resource;
  let pod: PodSpec;
  let container: Container;
  let settings: Record<string, string>;
  let secrets: Record<string, string>;
  let podLabels: Record<string, string>;

  beforeAll(async () => {
    const kustomization = (await resourcesOf('kustomization.yaml'))[0] as unknown as { resources: string[] };
    all = [];
    for (const file of kustomization.resources) all.push(...(await resourcesOf(file)));
    deployment = all.find((r) => r.kind === 'Deployment') as Resource;
    pod = ((deployment.spec as Json).template as Json).spec as PodSpec;
    [container] = pod.containers;
    podLabels = (((deployment.spec as Json).template as Json).metadata as { labels: Record<string, string> }).labels;
    settings = (all.find((r) => r.kind === 'ConfigMap' && r.metadata.name === container.envFrom[0].configMapRef?.name) as Resource).data as Record<string, string>;
    const secret = (await resourcesOf('secret.example.yaml'))[0];
    expect(container.envFrom.map((e) => e.secretRef?.name).filter(Boolean)).toEqual([secret.metadata.name]);
    secrets = secret.stringData as Record<string, string>;
  });

  it('applies a ConfigMap, a Deployment, two Services and a PodDisruptionBudget; the Secret and the autoscaler are not applied', () => {
    expect(all.map((r) => `${r.kind}/${r.metadata.name}`).sort()).toEqual([
      'ConfigMap/presence-sync-settings', 'Deployment/presence-sync', 'PodDisruptionBudget/presence-sync', 'Service/presence-sync', 'Service/presence-sync-ops',
    ]);
  });

  it('sets only settings the daemon reads and the README lists; secrets only in the Secret', async () => {
    const names = [...Object.keys(settings), ...Object.keys(secrets), ...(container.env ?? []).map((e) => e.name)];
    const documented = await readmeSettings();
    for (const name of names) {
      expect({ name, known: SETTING_NAMES.includes(name), documented: documented.has(name) }).toEqual({ name, known: true, documented: true });
    }
    for (const name of Object.keys(settings)) expect({ name, secret: SECRET_SETTINGS.includes(name) }).toEqual({ name, secret: false });
    for (const name of Object.keys(secrets)) expect({ name, secret: SECRET_SETTINGS.includes(name) }).toEqual({ name, secret: true });
  });

  it('the settings with the example Secret load and would boot', () => {
    const config = loadConfig({ ...settings, ...secrets });
    expect(salesforceModeProblem(config, false)).toBeUndefined();
    expect(adminDashboardProblem(config)).toBeUndefined();
  });

  it('names the container ports after HTTP_PORT and OPS_PORT; the Services target them', () => {
    const config = loadConfig({ ...settings, ...secrets });
    const port = (name: string) => container.ports.find((p) => p.name === name)?.containerPort;
    expect(port('http')).toBe(config.http.port);
    expect(port('ops')).toBe(config.ops?.port);
    const services = all.filter((r) => r.kind === 'Service');
    for (const service of services) {
      const spec = service.spec as { selector: Record<string, string>; ports: { targetPort: string }[] };
      expect(spec.selector).toEqual(podLabels);
      for (const p of spec.ports) expect(container.ports.map((c) => c.name)).toContain(p.targetPort);
    }
    // The operator endpoints stay reachable on a pod that is not ready.
    expect((services.find((s) => s.metadata.name === 'presence-sync-ops')?.spec as Json).publishNotReadyAddresses).toBe(true);
  });

  it('probes routes that exist, on the webhook port that serves them: liveness /health, readiness /ready', () => {
    const routes = healthRoutes();
    expect(routes).toEqual(expect.arrayContaining(['/health', '/ready', '/dependencies']));
    const { startupProbe, livenessProbe, readinessProbe } = container;
    expect([startupProbe.httpGet.path, livenessProbe.httpGet.path, readinessProbe.httpGet.path]).toEqual(['/health', '/health', '/ready']);
    for (const probe of [startupProbe, livenessProbe, readinessProbe]) {
      expect(routes).toContain(probe.httpGet.path);
      // With OPS_PORT set the webhook port serves only the webhook and these paths.
      expect(probe.httpGet.port).toBe('http');
      expect(PROBE_PATHS).toContain(probe.httpGet.path);
    }
    // A readiness answer may wait for Redis's PING this long; the probe must wait longer.
    expect(readinessProbe.timeoutSeconds * 1000).toBeGreaterThan(REDIS_PING_TIMEOUT_MS);
  });

  it('gives a stop more time than the drain and the shutdown take together; the drain needs no preStop hook', () => {
    const config = loadConfig({ ...settings, ...secrets });
    expect(config.shutdownDrainMs).toBeGreaterThan(0);
    expect(pod.terminationGracePeriodSeconds * 1000).toBeGreaterThan(config.shutdownDrainMs + config.shutdownTimeoutMs);
    expect(container.lifecycle).toBeUndefined();
  });

  it('runs at least two replicas, replaces them one at a time and keeps one through voluntary disruptions', () => {
    const spec = deployment.spec as { replicas: number; selector: { matchLabels: Record<string, string> }; strategy: { rollingUpdate: { maxUnavailable: number } } };
    expect(spec.replicas).toBeGreaterThanOrEqual(2);
    expect(spec.selector.matchLabels).toEqual(podLabels);
    expect(spec.strategy.rollingUpdate.maxUnavailable).toBe(0);
    const pdb = all.find((r) => r.kind === 'PodDisruptionBudget')?.spec as { minAvailable: number; selector: { matchLabels: Record<string, string> } };
    expect(pdb.minAvailable).toBeGreaterThanOrEqual(1);
    expect(pdb.minAvailable).toBeLessThan(spec.replicas);
    expect(pdb.selector.matchLabels).toEqual(podLabels);
  });

  it('the autoscaler, when turned on, scales this Deployment and never below two replicas', async () => {
    const [hpa] = await resourcesOf('hpa.yaml');
    const spec = hpa.spec as { scaleTargetRef: { kind: string; name: string }; minReplicas: number; maxReplicas: number };
    expect(spec.scaleTargetRef).toMatchObject({ kind: 'Deployment', name: deployment.metadata.name });
    expect(spec.minReplicas).toBeGreaterThanOrEqual(2);
    expect(spec.maxReplicas).toBeGreaterThanOrEqual(spec.minReplicas);
  });

  it('runs as a non-root user with a read-only root filesystem and no privileges', () => {
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
    expect(container.securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
  });

  it('requests CPU and memory, and limits memory above the request and above the peak measured under load', async () => {
    const { requests, limits } = container.resources;
    expect(requests.cpu).toMatch(/^\d+m?$/);
    expect(bytes(limits.memory)).toBeGreaterThan(bytes(requests.memory));
    expect(bytes(limits.memory)).toBeGreaterThan(await measuredPeakRss());
  });

  it('mounts the rules ConfigMap read-only at RULES_DIR, and a ConfigMap\'s layout (links into ..data) loads as rules', async () => {
    const mount = container.volumeMounts.find((m) => m.mountPath === settings.RULES_DIR);
    expect(mount?.readOnly).toBe(true);
    expect(pod.volumes.find((v) => v.name === mount?.name)?.configMap?.name).toBe('presence-sync-rules');
    // What the kubelet makes of `kubectl create configmap presence-sync-rules --from-file=rules/`.
    const dir = await mkdtemp(join(tmpdir(), 'rules-configmap-'));
    try {
      const files = (await readdir(join(ROOT, 'rules'))).filter((name) => !name.startsWith('.'));
      const version = join(dir, '..2026_01_01_00_00_00.000000001');
      await mkdir(version);
      for (const name of files) await copyFile(join(ROOT, 'rules', name), join(version, name));
      await symlink('..2026_01_01_00_00_00.000000001', join(dir, '..data'));
      for (const name of files) await symlink(join('..data', name), join(dir, name));
      const result = await loadRuleSet(dir);
      expect(result.errors).toEqual([]);
      expect(result.ruleSet?.rules.length).toBeGreaterThan(0);
      expect(result.files).toHaveLength(files.filter(isRuleFileName).length);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
