import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  DEFAULTS,
  DEV_SERVER_DYNAMIC_CONFIG,
  NAMESPACE_RETENTION,
  SEARCH_ATTRIBUTES,
} from '../../server/dev-server.js';

// docker-compose.yml, scripts/cluster.sh and the dev server are three ways to run one setup: this
// keeps their namespace, retention, search attributes, ports and task queue in step.

const ROOT = join(import.meta.dirname, '../..');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

interface Service {
  image?: string;
  build?: unknown;
  init?: boolean;
  ports?: string[];
  environment?: Record<string, string | number | boolean>;
  volumes?: string[];
  entrypoint?: string[];
  command?: string[];
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
}
const compose = parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, Service> };
const services = compose.services;
const service = (name: string): Service => {
  const found = services[name];
  if (found === undefined) throw new Error(`docker-compose.yml has no service ${name}`);
  return found;
};
const clusterSh = read('scripts/cluster.sh');
const namespaceJob = read('scripts/cluster/create-namespace.sh');
const temporalAddress = `temporal:${DEFAULTS.port}`;

/** `--name X --type Y` pairs in a script, as { X: Y }. */
function searchAttributesIn(script: string): Record<string, string> {
  return Object.fromEntries([...script.matchAll(/--name (\w+) --type (\w+)/g)].map((m) => [m[1], m[2]]));
}

/** The host folder or volume a service mounts at `target` (`source:target[:ro]`; source may hold `${VAR:-x}`). */
function mountOf(s: Service, target: string): string | undefined {
  for (const volume of s.volumes ?? []) {
    const spec = volume.replace(/:(ro|rw)$/, '');
    const cut = spec.lastIndexOf(':');
    if (spec.slice(cut + 1) === target) return spec.slice(0, cut);
  }
  return undefined;
}

describe('docker-compose.yml', () => {
  it("publishes the frontend on the dev server's gRPC port and the UI on 8080", () => {
    expect(service('temporal').ports).toEqual([`${DEFAULTS.port}:7233`]);
    expect(service('temporal-ui').ports).toEqual(['8080:8080']);
    expect(service('temporal-ui').environment?.TEMPORAL_ADDRESS).toBe(temporalAddress);
  });

  it('gives the worker the namespace and task queue the CLI defaults to, under an init', () => {
    const worker = service('loop-station-worker');
    expect(worker.environment).toEqual({
      TEMPORAL_ADDRESS: temporalAddress,
      TEMPORAL_NAMESPACE: DEFAULTS.namespace,
      LOOP_STATION_TASK_QUEUE: DEFAULTS.taskQueue,
    });
    expect(worker.init).toBe(true);
    expect(worker.build).toBe('.');
    expect(worker.command).toEqual(['loop-station', 'worker', '--allow-root', '/loops']);
    expect(mountOf(worker, '/loops')).toBe('${LOOP_STATION_LOOPS_DIR:-./loops}');
  });

  it('runs the namespace job with our namespace, retention and search attributes', () => {
    const job = service('temporal-create-namespace');
    expect(job.environment).toMatchObject({
      TEMPORAL_ADDRESS: temporalAddress,
      NAMESPACE: DEFAULTS.namespace,
      RETENTION: NAMESPACE_RETENTION,
    });
    expect(job.entrypoint).toEqual(['/bin/sh', '/scripts/create-namespace.sh']);
    expect(mountOf(job, '/scripts')).toBe('./scripts/cluster');
    expect(searchAttributesIn(namespaceJob)).toEqual(SEARCH_ATTRIBUTES);
  });

  it('sets up both schemas with the shared script before the server starts', () => {
    const job = service('temporal-admin-tools');
    expect(job.entrypoint).toEqual(['/bin/sh', '/scripts/setup-schema.sh']);
    expect(mountOf(job, '/scripts')).toBe('./scripts/cluster');
    expect(existsSync(join(ROOT, 'scripts/cluster/setup-schema.sh'))).toBe(true);
  });

  it('health-checks PostgreSQL with pg_isready and keeps its data on a named volume', () => {
    const pg = service('postgresql');
    expect(pg.healthcheck?.test.join(' ')).toContain('pg_isready -U temporal');
    const volume = mountOf(pg, '/var/lib/postgresql/data');
    expect(volume).toBe('postgres-data');
  });

  it('starts each service only once what it needs is healthy or done', () => {
    const dependsOn = Object.fromEntries(
      Object.entries(services).map(([name, s]) => [
        name,
        Object.fromEntries(Object.entries(s.depends_on ?? {}).map(([dep, { condition }]) => [dep, condition])),
      ]),
    );
    expect(dependsOn).toEqual({
      postgresql: {},
      'temporal-admin-tools': { postgresql: 'service_healthy' },
      temporal: { 'temporal-admin-tools': 'service_completed_successfully' },
      'temporal-create-namespace': { temporal: 'service_healthy' },
      'temporal-ui': { temporal: 'service_healthy' },
      'loop-station-worker': { 'temporal-create-namespace': 'service_completed_successfully' },
    });
  });

  it('runs the server and admin tools of the version scripts/cluster.sh builds, on postgres12', () => {
    const serverVersion = /^SERVER_VERSION=(\S+)$/m.exec(clusterSh)?.[1];
    expect(service('temporal').image).toBe(`temporalio/server:${serverVersion}`);
    expect(service('temporal-admin-tools').image).toMatch(new RegExp(`^temporalio/admin-tools:${serverVersion}(-|$)`));
    expect(service('temporal-create-namespace').image).toBe(service('temporal-admin-tools').image);
    expect(service('temporal').environment).toMatchObject({
      DB: 'postgres12',
      BIND_ON_IP: '0.0.0.0',
      DYNAMIC_CONFIG_FILE_PATH: 'config/dynamicconfig/development-sql.yaml',
    });
    expect(mountOf(service('temporal'), '/etc/temporal/config/dynamicconfig')).toBe('./dynamicconfig');
  });
});

describe('dynamicconfig/development-sql.yaml', () => {
  it('holds the same values as the dev server flags', () => {
    const file = parse(read('dynamicconfig/development-sql.yaml')) as Record<string, { value: unknown }[]>;
    const values = Object.fromEntries(Object.entries(file).map(([key, [first]]) => [key, first?.value]));
    expect(values).toEqual(DEV_SERVER_DYNAMIC_CONFIG);
  });
});

describe('scripts/cluster.sh', () => {
  it('uses the same namespace, retention, port and namespace job as compose', () => {
    expect(clusterSh).toMatch(new RegExp(`^NAMESPACE=${DEFAULTS.namespace}$`, 'm'));
    expect(clusterSh).toMatch(new RegExp(`^RETENTION=${NAMESPACE_RETENTION}$`, 'm'));
    expect(clusterSh).toMatch(new RegExp(`^GRPC_PORT=${DEFAULTS.port};`, 'm'));
    expect(clusterSh).toContain('scripts/cluster/create-namespace.sh');
    expect(clusterSh).toContain('scripts/cluster/setup-schema.sh');
    expect(clusterSh).toContain('dynamicconfig/development-sql.yaml');
  });

  it('names the search attributes in its header as compose does', () => {
    const listed = Object.entries(SEARCH_ATTRIBUTES)
      .map(([name, type]) => `${name}=${type}`)
      .join(' ');
    expect(clusterSh).toContain(`search attributes ${listed}`);
    expect(read('docker-compose.yml')).toContain(`search attributes ${listed}`);
  });
});

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile');

  it('installs the agent CLIs at the versions the adapters are pinned to', async () => {
    const { AGENT_CLIS } = await import('../../activities/agents/cli-versions.js');
    expect(/^ARG CODEX_VERSION=(\S+)$/m.exec(dockerfile)?.[1]).toBe(AGENT_CLIS.codex.version);
    expect(/^ARG CLAUDE_CODE_VERSION=(\S+)$/m.exec(dockerfile)?.[1]).toBe(AGENT_CLIS.claude.version);
    expect(dockerfile).toContain(`"${AGENT_CLIS.codex.package}@\${CODEX_VERSION}"`);
    expect(dockerfile).toContain(`"${AGENT_CLIS.claude.package}@\${CLAUDE_CODE_VERSION}"`);
  });

  it('runs on a Node that package.json engines allow, as the non-root user, the CLI compose runs', () => {
    const engines = (JSON.parse(read('package.json')) as { engines: { node: string } }).engines.node;
    const minimum = Number(/^>=(\d+)/.exec(engines)?.[1]);
    const images = [...dockerfile.matchAll(/^FROM node:(\d+)-bookworm/gm)].map((m) => Number(m[1]));
    expect(images.length).toBe(2);
    for (const major of images) expect(major).toBeGreaterThanOrEqual(minimum);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^CMD \["loop-station", "worker", "--allow-root", "\/loops"\]$/m);
  });
});
