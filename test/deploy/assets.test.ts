// The deployment and observability assets, checked without Docker or a cluster: Prometheus rules
// and config (promtool), the Grafana dashboard, docker-compose.yml, the Dockerfile's HEALTHCHECK
// (run against a real trustgate), and the Kubernetes manifests.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ConfigMap, Namespace, Secret, Service, ServiceAccount } from 'kubernetes-models/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { parse, parseAllDocuments } from 'yaml';
import { loadConfig } from '../../src/config/index.ts';
import { loadPolicy } from '../../src/policy-store/policy-file.ts';
import { parseRedisUrl } from '../../src/redis/url.ts';
import { parseTrustedIdentity } from '../../src/verify/notation/index.ts';
import { makeTls } from '../kit/index.ts';
import { startProxy } from '../support/proxy-server.ts';
import { BLOB_CACHE_METRICS } from '../support/blob-cache-metric-names.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));
const at = (path: string): string => join(root, path);
const text = (path: string): string => readFileSync(at(path), 'utf8');
const work = mkdtempSync(join(tmpdir(), 'tg-deploy-'));
after(() => rmSync(work, { recursive: true, force: true }));

/** Parsed YAML and JSON, checked field by field below. */
type Json = any;

/**
 * The metric names trustgate exports (src/metrics). Dashboards and alerts may use these and
 * nothing else; test/metrics/metrics.test.ts checks the same list against a live /metrics scrape.
 */
const APP_METRICS = [
  'trustgate_decisions_total',
  'trustgate_denied_pulls_total',
  'trustgate_manifest_requests_total',
  'trustgate_blob_bytes_total',
  'trustgate_verdict_cache_lookups_total',
  'trustgate_upstream_errors_total',
  'trustgate_trust_store_keys',
  'trustgate_trust_store_version',
  'trustgate_policy_info',
  'trustgate_scan_queue_pending',
  'trustgate_redis_up',
  'trustgate_sigstore_root_age_seconds',
  'trustgate_sigstore_root_refresh_interval_seconds',
  'trustgate_sigstore_root_refresh_total',
  // Only with blobCache.enabled: test/e2e/blob-cache.test.ts checks them against a live registry.
  ...BLOB_CACHE_METRICS,
];
const APP_HISTOGRAMS = [
  'trustgate_request_duration_seconds',
  'trustgate_verification_duration_seconds',
  'trustgate_upstream_request_duration_seconds',
];

/** prom-client's default process and Node metrics under trustgate's prefix, as this prom-client names them. */
async function defaultMetrics(): Promise<Map<string, string>> {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'trustgate_' });
  return new Map((await registry.getMetricsAsJSON()).map((m) => [m.name, String(m.type)]));
}

async function unknownMetrics(expressions: readonly string[]): Promise<string[]> {
  const defaults = await defaultMetrics();
  const histograms = new Set([...APP_HISTOGRAMS, ...[...defaults].filter(([, type]) => type === 'histogram').map(([name]) => name)]);
  const known = new Set([...APP_METRICS, ...APP_HISTOGRAMS, ...defaults.keys()]);
  const used = new Set(expressions.flatMap((e) => e.match(/\btrustgate_[a-z0-9_]+/g) ?? []));
  return [...used].filter((name) => !known.has(name) && !histograms.has(name.replace(/_(bucket|sum|count)$/, '')));
}

function run(file: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd: root, env, timeout: 60_000 }, (error, stdout, stderr) => {
      if (error !== null && (error as NodeJS.ErrnoException).code === 'ENOENT') {
        resolve({ code: -1, out: `${file} not found: run bash scripts/ensure-packages.sh (Debian package "prometheus" ships promtool)` });
      } else resolve({ code: error === null ? 0 : Number(error.code ?? 1), out: `${stdout}${stderr}` });
    });
  });
}
const promtool = (...args: string[]) => run('promtool', args);

/**
 * How the alert rules know trustgate's targets: the one label matcher of every `up{...}` in them
 * (config/prometheus/alerts.yml, "Which targets are trustgate"), as [label, value].
 */
function targetSelector(rules: Json): [string, string] {
  const exprs: string[] = rules.groups.flatMap((g: Json) => g.rules.map((r: Json) => String(r.expr)));
  const matchers = new Set(exprs.flatMap((e) => [...e.matchAll(/\bup\{([^}]*)\}/g)].map((m) => m[1]!)));
  assert.equal(matchers.size, 1, [...matchers].join(' | '));
  const match = /^([a-z_]+)="([^"]+)"$/.exec([...matchers][0]!);
  assert.ok(match, [...matchers][0]);
  return [match[1]!, match[2]!];
}

/** A Kubernetes label as Prometheus's Kubernetes discovery names it (`__meta_kubernetes_pod_label_<this>`). */
const promLabelName = (label: string): string => label.replace(/[^a-zA-Z0-9_]/g, '_');

describe('Prometheus rules and config', () => {
  const rules: Json = parse(text('config/prometheus/alerts.yml'));
  const allRules: Json[] = rules.groups.flatMap((g: Json) => g.rules);

  it('promtool check rules accepts config/prometheus/alerts.yml', async () => {
    const { code, out } = await promtool('check', 'rules', 'config/prometheus/alerts.yml');
    assert.equal(code, 0, out);
    assert.match(out, /SUCCESS/);
  });

  it('promtool check config accepts config/prometheus/prometheus.yml, with the rules it loads', async () => {
    const { code, out } = await promtool('check', 'config', 'config/prometheus/prometheus.yml');
    assert.equal(code, 0, out);
    assert.match(out, /alerts\.yml/);
  });

  it('every alert has for:, a severity, and summary, description and runbook annotations', () => {
    const required = [
      'TrustgateInstanceDown',
      'TrustgateBlockRateSpike',
      'TrustgateUpstreamErrors',
      'TrustgateRedisDown',
      'TrustgateVerificationSlow',
      'TrustgateScanQueueGrowing',
      'TrustgateTrustStoreEmpty',
    ];
    assert.deepEqual(
      required.filter((name) => !allRules.some((r) => r.alert === name)),
      [],
    );
    for (const rule of allRules) {
      assert.match(String(rule.for), /^\d+[smh]$/, `${rule.alert}: for`);
      assert.ok(['warning', 'critical'].includes(rule.labels?.severity), `${rule.alert}: severity`);
      for (const key of ['summary', 'description', 'runbook']) assert.ok(rule.annotations?.[key], `${rule.alert}: ${key}`);
    }
  });

  it('the alerts fire, and stay quiet, on scripted series: promtool test rules config/prometheus/alerts.test.yml', async () => {
    const { code, out } = await promtool('test', 'rules', 'config/prometheus/alerts.test.yml');
    assert.equal(code, 0, out);
    assert.match(out, /SUCCESS/);
  });

  it('alerts.test.yml tests the shipped rules: every alert firing and quiet, the availability ones under each scrape set-up', () => {
    const tests: Json = parse(text('config/prometheus/alerts.test.yml'));
    assert.deepEqual(tests.rule_files, ['alerts.yml']);
    const cases: Json[] = tests.tests.flatMap((t: Json) => t.alert_rule_test);
    const firing = (alert: string) => cases.filter((c) => c.alertname === alert && (c.exp_alerts ?? []).length > 0);
    const quiet = (alert: string) => cases.filter((c) => c.alertname === alert && (c.exp_alerts ?? []).length === 0);
    const untested = allRules.map((r) => r.alert).filter((alert: string) => firing(alert).length === 0 || quiet(alert).length === 0);
    assert.deepEqual(untested, [], 'alerts without both a firing and a quiet case');
    // job="kubernetes-pods": pods scraped by annotation; job="trustgate": the ServiceMonitor (and compose).
    for (const alert of ['TrustgateDown', 'TrustgateInstanceDown']) {
      const jobs = new Set(firing(alert).flatMap((c) => c.exp_alerts.map((a: Json) => a.exp_labels.job)));
      assert.ok(jobs.has('kubernetes-pods') && jobs.has('trustgate'), `${alert} fires under ${[...jobs].join(', ')}`);
    }
  });

  it('the availability alerts select trustgate by a label the pods carry, not by job name, and the compose job sets it', () => {
    const [label, value] = targetSelector(rules);
    const podLabels = parse(text('deploy/kubernetes/deployment.yaml')).spec.template.metadata.labels as Record<string, string>;
    // The kubernetes-pods job's `labelmap __meta_kubernetes_pod_label_(.+)` turns each pod label into this target label.
    assert.ok(
      Object.entries(podLabels).some(([k, v]) => promLabelName(k) === label && v === value),
      `no pod label becomes ${label}="${value}"`,
    );
    const prometheus: Json = parse(text('config/prometheus/prometheus.yml'));
    const job = prometheus.scrape_configs.find((c: Json) => c.job_name === 'trustgate');
    assert.equal(job.static_configs[0].labels[label], value);
  });

  it('uses only metric names trustgate exports, in expressions and runbooks', async () => {
    const texts = allRules.flatMap((r) => [r.expr, ...Object.values(r.annotations ?? {})].map(String));
    assert.deepEqual(await unknownMetrics(texts), []);
  });

  it('the compose Prometheus scrapes trustgate on the port its compose config listens on', () => {
    const prometheus: Json = parse(text('config/prometheus/prometheus.yml'));
    const job = prometheus.scrape_configs.find((c: Json) => c.job_name === 'trustgate');
    assert.deepEqual(prometheus.rule_files, ['alerts.yml']);
    const port = loadConfig(at('config/trustgate.compose.yaml')).listen.port;
    assert.deepEqual(job.static_configs[0].targets, [`trustgate:${port}`]);
    assert.equal(job.metrics_path, '/metrics');
  });
});

describe('the Grafana dashboard and provisioning', () => {
  const dashboard: Json = JSON.parse(text('config/grafana/trustgate.json'));
  const panels: Json[] = dashboard.panels.filter((p: Json) => p.type !== 'row');
  const expressions: string[] = panels.flatMap((p) => p.targets.map((t: Json) => t.expr));
  const variableQueries: string[] = dashboard.templating.list.filter((v: Json) => v.type === 'query').map((v: Json) => v.query.query);

  it('uses only metric names trustgate exports', async () => {
    assert.ok(expressions.length >= 20, `${expressions.length} expressions`);
    assert.deepEqual(await unknownMetrics([...expressions, ...variableQueries]), []);
  });

  it('has the panels the runbooks point at', () => {
    const wanted: Array<[string, RegExp]> = [
      ['decisions by outcome', /sum by \(outcome\) \(rate\(trustgate_decisions_total/],
      ['denials by reason', /sum by \(outcome, reason\) \(rate\(trustgate_decisions_total/],
      ['top block reasons', /topk\(10, sum by \(reason\) \(increase\(trustgate_decisions_total\{[^}]*outcome="deny"/],
      [
        'pull latency on the manifests route',
        /histogram_quantile\(0\.99, sum by \(le\) \(rate\(trustgate_request_duration_seconds_bucket\{[^}]*route="\/v2\/<name>\/manifests\/<ref>"/,
      ],
      [
        'verification latency by result',
        /histogram_quantile\(0\.99, sum by \(le, result\) \(rate\(trustgate_verification_duration_seconds_bucket/,
      ],
      ['cache hit ratio by layer', /sum by \(layer\) \(rate\(trustgate_verdict_cache_lookups_total\{[^}]*result="hit"/],
      ['upstream errors by kind', /sum by \(upstream, kind\) \(rate\(trustgate_upstream_errors_total/],
      ['Redis health', /trustgate_redis_up/],
      ['scan queue depth', /trustgate_scan_queue_pending/],
      ['trust store version', /trustgate_trust_store_version/],
      ['trust store keys', /trustgate_trust_store_keys/],
    ];
    assert.deepEqual(
      wanted.filter(([, re]) => !expressions.some((e) => re.test(e))).map(([what]) => what),
      [],
    );
  });

  it('counts replicas by the label the alert rules select trustgate by (a kubernetes-pods job scrapes other pods too)', () => {
    const [label, value] = targetSelector(parse(text('config/prometheus/alerts.yml')));
    const ups = expressions.filter((e) => /\bup\{/.test(e));
    assert.ok(ups.length > 0);
    for (const e of ups) assert.ok(e.includes(`${label}="${value}"`), e);
  });

  it('is well formed: unique panel ids, refIds per panel, panels on the 24-column grid, all on the datasource variable', () => {
    const ids = dashboard.panels.map((p: Json) => p.id);
    assert.equal(new Set(ids).size, ids.length);
    for (const p of panels) {
      assert.deepEqual(p.datasource, { type: 'prometheus', uid: '${datasource}' }, p.title);
      const refIds = p.targets.map((t: Json) => t.refId);
      assert.equal(new Set(refIds).size, refIds.length, p.title);
      assert.ok(p.gridPos.x >= 0 && p.gridPos.w > 0 && p.gridPos.x + p.gridPos.w <= 24, p.title);
    }
    assert.equal(dashboard.uid, 'trustgate');
    // "All" as ".*" would make up{job=~"$job"} count every job Prometheus scrapes.
    assert.equal(dashboard.templating.list.find((v: Json) => v.name === 'job').allValue ?? null, null);
  });

  it('provisioning: the datasource the dashboard defaults to, and the folder compose mounts the dashboard in', () => {
    const datasource: Json = parse(text('config/grafana/provisioning/datasources/prometheus.yml')).datasources[0];
    const variable = dashboard.templating.list.find((v: Json) => v.name === 'datasource');
    assert.equal(variable.current.value, datasource.uid);
    assert.equal(datasource.url, 'http://prometheus:9090');
    const provider: Json = parse(text('config/grafana/provisioning/dashboards/trustgate.yml')).providers[0];
    const grafana: Json = parse(text('docker-compose.yml')).services.grafana;
    assert.ok(grafana.volumes.includes(`./config/grafana/trustgate.json:${provider.options.path}/trustgate.json:ro`));
  });
});

describe('docker-compose.yml', () => {
  const compose: Json = parse(text('docker-compose.yml'));
  const services = compose.services as Record<string, Json>;

  it('runs trustgate, the registry, Redis, Prometheus and Grafana, publishing ports on 127.0.0.1 only', () => {
    assert.deepEqual(Object.keys(services).sort(), ['grafana', 'prometheus', 'redis', 'registry', 'trustgate']);
    for (const [name, service] of Object.entries(services)) {
      for (const port of service.ports ?? []) assert.match(String(port), /^127\.0\.0\.1:\d+:\d+$/, name);
    }
  });

  it('mounts files that exist: trustgate config and keys, Prometheus config and rules, Grafana provisioning', () => {
    const mounts = Object.values(services)
      .flatMap((s) => (s.volumes ?? []) as string[])
      .filter((v) => v.startsWith('./'));
    assert.deepEqual(
      mounts.filter((v) => !existsSync(at(v.split(':')[0]!))),
      [],
    );
    assert.ok(services['prometheus'].volumes.includes('./config/prometheus:/etc/prometheus:ro'));
    assert.ok(services['prometheus'].command.includes('--config.file=/etc/prometheus/prometheus.yml'));
  });

  it('trustgate runs read-only with a tmpfs at /tmp; Grafana lets anonymous users view only', () => {
    assert.equal(services['trustgate'].read_only, true);
    assert.deepEqual(services['trustgate'].tmpfs, ['/tmp']);
    assert.equal(services['grafana'].environment.GF_AUTH_ANONYMOUS_ENABLED, 'true');
    assert.equal(services['grafana'].environment.GF_AUTH_ANONYMOUS_ORG_ROLE, 'Viewer');
  });
});

describe('the Dockerfile', () => {
  const dockerfile = text('Dockerfile').replace(/\\\n/g, ' ');
  const instructions = dockerfile.split('\n').filter((l) => /^[A-Z]+\s/.test(l));
  const final = instructions.slice(instructions.findLastIndex((l) => l.startsWith('FROM ')));
  const healthcheck: string[] = JSON.parse(/^HEALTHCHECK .*?CMD (\[.*\])\s*$/m.exec(dockerfile)![1]!);

  it('is multi-stage on a Node LTS image the engines allow, keeps production dependencies only, runs as a numeric non-root user', () => {
    assert.ok(instructions.filter((l) => l.startsWith('FROM ')).length >= 2);
    const major = /^ARG NODE_IMAGE=node:(\d+)-/m.exec(dockerfile)?.[1];
    assert.ok(major !== undefined && Number(major) % 2 === 0, 'an even-numbered (LTS) Node line');
    assert.match(JSON.parse(text('package.json')).engines.node, new RegExp(`\\^${major}\\b`));
    assert.match(dockerfile, /npm prune --omit=dev/);
    assert.match(
      final.find((l) => l.startsWith('USER '))!,
      /^USER [1-9]\d*:[1-9]\d*$/,
    );
    assert.match(
      final.find((l) => l.startsWith('ENV '))!,
      /TMPDIR=\/tmp/,
    );
    assert.ok(!final.some((l) => /^COPY .*\b(config|keys)\b/.test(l)), 'config and keys come from /etc/trustgate, not the image');
  });

  // The HEALTHCHECK is run as written, against a real trustgate: Docker is not needed to know it works.
  for (const scheme of ['https', 'http'] as const) {
    it(`HEALTHCHECK passes against trustgate over ${scheme}, and fails once it is gone`, async () => {
      const tls = scheme === 'https' ? await makeTls(mkdtempSync(join(work, 'tls-'))) : undefined;
      const listenYaml =
        tls === undefined ? 'listen: { plainHttp: true }' : `listen: { tls: { certFile: ${tls.certFile}, keyFile: ${tls.keyFile} } }`;
      const proxy = await startProxy(
        `${listenYaml}\nupstreams:\n  - { name: up, url: "http://127.0.0.1:9", default: true, repositories: ["127.0.0.1:9/**"] }\n`,
      );
      assert.ok(proxy.url.startsWith(`${scheme}://`));
      const env = { ...process.env, TRUSTGATE_LISTEN: `0.0.0.0:${new URL(proxy.url).port}` };
      const probe = () => run(healthcheck[0] === 'node' ? process.execPath : healthcheck[0]!, healthcheck.slice(1), env);
      try {
        assert.deepEqual(await probe(), { code: 0, out: '' });
      } finally {
        await proxy.close();
      }
      assert.equal((await probe()).code, 1);
    });
  }
});

describe('the Kubernetes manifests', () => {
  const files = readdirSync(at('deploy/kubernetes'), { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.ya?ml$/.test(f))
    .sort();
  const objects: Json[] = files.flatMap((file) =>
    parseAllDocuments(text(`deploy/kubernetes/${file}`)).map((doc) => {
      assert.deepEqual(doc.errors, [], file);
      return { ...doc.toJS(), file };
    }),
  );
  const one = (kind: string): Json => {
    const found = objects.filter((o) => o.kind === kind);
    assert.equal(found.length, 1, kind);
    return found[0];
  };
  const deployment = one('Deployment');
  const pod = deployment.spec.template.spec;
  const container = pod.containers[0];
  const containerPort = (port: number | string): number =>
    typeof port === 'number' ? port : container.ports.find((p: Json) => p.name === port).containerPort;

  // kubeconform and kubeval are not packaged for Debian (apt-cache search finds neither) and
  // download their schemas at run time; kubernetes-models (npm, Kubernetes 1.27 OpenAPI schemas)
  // validates offline with ajv. Like the Kubernetes schemas it does not reject unknown fields, so
  // the structural checks below name the fields that matter.
  const MODELS: Record<string, new (data: Json) => { validate(): void }> = {
    'v1/Namespace': Namespace,
    'v1/ServiceAccount': ServiceAccount,
    'v1/ConfigMap': ConfigMap,
    'v1/Secret': Secret,
    'v1/Service': Service,
    'apps/v1/Deployment': Deployment,
    'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
    'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
    'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  };
  // Custom resources kubernetes-models has no schema for: checked field by field in their own test.
  const CUSTOM = new Set(['monitoring.coreos.com/v1/ServiceMonitor']);

  it('every object has apiVersion, kind and metadata.name, and validates against the Kubernetes schema', () => {
    assert.ok(objects.length >= 9, `${objects.length} objects in ${files.join(', ')}`);
    for (const { file, ...object } of objects) {
      assert.ok(object.apiVersion && object.kind && object.metadata?.name, `${file}: apiVersion, kind, metadata.name`);
      if (CUSTOM.has(`${object.apiVersion}/${object.kind}`)) continue;
      const Model = MODELS[`${object.apiVersion}/${object.kind}`];
      assert.ok(Model, `${file}: no schema here for ${object.apiVersion} ${object.kind}`);
      assert.doesNotThrow(() => new Model(object).validate(), `${file}: ${object.kind} ${object.metadata.name}`);
    }
  });

  it("the Deployment: 3 replicas, a locked-down security context, an emptyDir at /tmp, a grace period above the app's", () => {
    assert.equal(deployment.spec.replicas, 3);
    assert.equal(pod.securityContext.runAsNonRoot, true);
    assert.equal(pod.securityContext.seccompProfile.type, 'RuntimeDefault');
    const sc = container.securityContext;
    assert.deepEqual(
      [sc.runAsNonRoot, sc.readOnlyRootFilesystem, sc.allowPrivilegeEscalation, sc.capabilities.drop, sc.seccompProfile.type],
      [true, true, false, ['ALL'], 'RuntimeDefault'],
    );
    const tmp = container.volumeMounts.find((m: Json) => m.mountPath === '/tmp');
    assert.ok(pod.volumes.find((v: Json) => v.name === tmp.name).emptyDir);
    const preStop = Number(container.lifecycle?.preStop?.exec?.command?.[1] ?? 0);
    const graceMs = parse(one('ConfigMap').data['trustgate.yaml']).listen.shutdownGraceMs ?? 25_000; // listen.shutdownGraceMs's default
    assert.ok(pod.terminationGracePeriodSeconds > graceMs / 1000 + preStop, 'above the shutdown grace plus the preStop pause');
    assert.ok(container.resources.requests.cpu && container.resources.requests.memory && container.resources.limits.memory);
    assert.equal(container.env.find((e: Json) => e.name === 'TRUSTGATE_REDIS_URL').valueFrom.secretKeyRef.name, 'trustgate-redis');
  });

  it('the Deployment: readiness /readyz, liveness /healthz, a startup probe, all HTTPS on the container port', () => {
    const probes = { readinessProbe: '/readyz', livenessProbe: '/healthz', startupProbe: '/healthz' };
    for (const [probe, path] of Object.entries(probes)) {
      const get = container[probe].httpGet;
      assert.deepEqual([get.path, get.scheme, containerPort(get.port)], [path, 'HTTPS', 5443], probe);
    }
  });

  it('the Service sends 443 to the container port, and the NetworkPolicy lets pulls in on it', () => {
    const service = one('Service');
    assert.deepEqual(service.spec.selector, deployment.spec.template.metadata.labels);
    assert.equal(service.spec.ports[0].port, 443);
    assert.equal(containerPort(service.spec.ports[0].targetPort), 5443);
    const policy = one('NetworkPolicy');
    assert.deepEqual(policy.spec.podSelector.matchLabels, deployment.spec.selector.matchLabels);
    assert.ok(policy.spec.ingress.every((rule: Json) => rule.ports.every((p: Json) => p.port === 5443)));
    const egressPorts = policy.spec.egress.flatMap((rule: Json) => rule.ports.map((p: Json) => `${p.protocol}/${p.port}`));
    assert.ok(
      ['UDP/53', 'TCP/6379', 'TCP/26379', 'TCP/443'].every((p) => egressPorts.includes(p)),
      egressPorts.join(' '),
    );
    assert.deepEqual(one('PodDisruptionBudget').spec.selector.matchLabels, deployment.spec.selector.matchLabels);
    assert.equal(one('HorizontalPodAutoscaler').spec.scaleTargetRef.name, deployment.metadata.name);
  });

  it('the ServiceMonitor scrapes /metrics over HTTPS on the Service port, and gives the targets the label the alert rules select', () => {
    const monitor = one('ServiceMonitor');
    const service = one('Service');
    assert.equal(monitor.file, 'servicemonitor.yaml');
    assert.equal(monitor.metadata.namespace, service.metadata.namespace);
    // The fields the Operator reads (monitoring.coreos.com/v1): a misspelt one would be ignored, not refused.
    const allowed = (object: Json, fields: string[], what: string) =>
      assert.deepEqual(
        Object.keys(object).filter((k) => !fields.includes(k)),
        [],
        what,
      );
    allowed(monitor.spec, ['selector', 'namespaceSelector', 'endpoints', 'podTargetLabels', 'targetLabels', 'jobLabel'], 'spec');
    for (const [label, value] of Object.entries(monitor.spec.selector.matchLabels))
      assert.equal(service.metadata.labels[label], value, label);
    assert.equal(monitor.spec.endpoints.length, 1);
    const endpoint = monitor.spec.endpoints[0];
    allowed(endpoint, ['port', 'scheme', 'path', 'interval', 'scrapeTimeout', 'tlsConfig', 'relabelings', 'metricRelabelings'], 'endpoint');
    allowed(endpoint.tlsConfig, ['ca', 'cert', 'keySecret', 'serverName', 'insecureSkipVerify'], 'tlsConfig');
    const port = service.spec.ports.find((p: Json) => p.name === endpoint.port);
    assert.ok(port, `the Service has no port named ${endpoint.port}`);
    assert.equal(containerPort(port.targetPort), 5443);
    assert.deepEqual([endpoint.scheme, endpoint.path], ['https', '/metrics']);
    // The Operator relabels each of podTargetLabels from __meta_kubernetes_pod_label_<name>, like the kubernetes-pods job's labelmap.
    const [label, value] = targetSelector(parse(text('config/prometheus/alerts.yml')));
    const copied = (monitor.spec.podTargetLabels as string[]).filter((l) => promLabelName(l) === label);
    assert.equal(copied.length, 1, `podTargetLabels: none becomes ${label}`);
    assert.equal(deployment.spec.template.metadata.labels[copied[0]!], value);
  });

  it('the ConfigMap holds a config and policy trustgate loads, listening with TLS on the container port and reading the mounted files', () => {
    const data = one('ConfigMap').data;
    const dir = join(work, 'etc-trustgate');
    mkdirSync(dir);
    writeFileSync(join(dir, 'trustgate.yaml'), data['trustgate.yaml']);
    writeFileSync(join(dir, 'policy.yaml'), data['policy.yaml']);
    const config = loadConfig(join(dir, 'trustgate.yaml'));
    assert.equal(config.listen.port, 5443);
    const mountOf = (volume: string) =>
      container.volumeMounts.find(
        (m: Json) => m.name === pod.volumes.find((v: Json) => v.configMap?.name === volume || v.secret?.secretName === volume).name,
      ).mountPath;
    assert.equal(mountOf('trustgate-config'), '/etc/trustgate');
    assert.deepEqual(container.args, ['--config', '/etc/trustgate/trustgate.yaml']);
    assert.deepEqual(config.listen.tls, {
      certFile: `${mountOf('trustgate-tls')}/tls.crt`,
      keyFile: `${mountOf('trustgate-tls')}/tls.key`,
    });
    assert.equal(config.keysDir, join(dir, 'keys'));
    assert.equal(mountOf('trustgate-keys'), '/etc/trustgate/keys');
    assert.equal(config.redis.url, undefined, 'the Redis URL comes from the Secret, not the ConfigMap');
    assert.ok(loadPolicy(config.policyFile, (identity) => void parseTrustedIdentity(identity)).rules.length > 0);
  });

  it('the example Secrets hold placeholders only, and the Redis URL has the Sentinel form trustgate parses', () => {
    const secrets = objects.filter((o) => o.kind === 'Secret');
    assert.ok(
      secrets.every((s) => s.file.startsWith('examples/')),
      'Secrets only under examples/',
    );
    for (const value of secrets.flatMap((s) => Object.values({ ...s.stringData, ...s.data }) as string[])) {
      assert.doesNotMatch(value, /-----BEGIN/);
      assert.match(value, /REPLACE/);
    }
    const url = secrets.find((s) => s.metadata.name === 'trustgate-redis').stringData.url;
    assert.equal(parseRedisUrl(url).topology, 'sentinel');
  });
});
