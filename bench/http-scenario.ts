// A scenario that sends one fixed request over and over: straight to the
// registry, then through nginx, then through trustgate (or, with `proxy:
// 'cached'`, through the second trustgate, the one with the blob cache on),
// with the same load generator settings.
import { createHash } from 'node:crypto';
import { dirBytes } from './blob-cache.ts';
import { runLoad, toolFor } from './load.ts';
import { cpuMicros, processTree } from './proc-stats.ts';
import type { LoadRequest } from './load.ts';
import { proxyOf, TARGETS, targetUrl } from './types.ts';
import type { BenchEnv, LoadResult, LoadRound, ProxyChoice, Scenario, TargetName } from './types.ts';

/** The Accept header containerd sends when it resolves a reference. */
export const CONTAINERD_ACCEPT = [
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
  '*/*',
].join(', ');

export interface HttpScenarioSpec {
  name: string;
  measures: string;
  method: 'GET' | 'HEAD';
  /** Path and query, the same on both targets, e.g. /v2/bench/app/manifests/v1. */
  path(env: BenchEnv): string;
  /** For GET: the sha256 digest the body must have (checked once before measuring). */
  bodyDigest?(env: BenchEnv): string;
  /** For GET of a blob: the body's size, so the row also reports bytes per second. */
  bodyBytes?(env: BenchEnv): number;
  /** Untimed, before the check: push what the request needs and let trustgate see it. */
  prepare?(env: BenchEnv): Promise<void>;
  /** The process measured as "trustgate": the main one (default) or the one with the blob cache on. */
  proxy?: ProxyChoice;
}

const urlOf = (spec: HttpScenarioSpec, env: BenchEnv, target: TargetName): string =>
  target === 'trustgate' ? proxyOf(env, spec.proxy ?? 'trustgate').url : targetUrl(env, target);

function request(spec: HttpScenarioSpec, env: BenchEnv, target: TargetName): LoadRequest {
  return { method: spec.method, url: `${urlOf(spec, env, target)}${spec.path(env)}`, headers: { Accept: CONTAINERD_ACCEPT } };
}

const where = (spec: HttpScenarioSpec, target: TargetName): string =>
  target === 'trustgate' && spec.proxy === 'cached'
    ? 'via trustgate-cached'
    : { direct: 'direct', nginx: 'via nginx', trustgate: 'via trustgate' }[target];

async function checkOne(spec: HttpScenarioSpec, env: BenchEnv, target: string, req: LoadRequest): Promise<void> {
  const where = `${spec.name} ${target}: ${req.method} ${req.url}`;
  let res: Response;
  try {
    res = await fetch(req.url, { method: req.method, headers: req.headers, signal: AbortSignal.timeout(10_000) });
  } catch (error) {
    throw new Error(`${where} failed: ${error instanceof Error ? error.message : String(error)}`);
  }
  const body = Buffer.from(await res.arrayBuffer());
  if (res.status !== 200) {
    throw new Error(`${where} answered ${res.status}, expected 200: ${body.toString('utf8', 0, 500).trim()}`);
  }
  const want = spec.method === 'GET' ? spec.bodyDigest?.(env) : undefined;
  const got = `sha256:${createHash('sha256').update(body).digest('hex')}`;
  if (want !== undefined && got !== want) throw new Error(`${where} answered 200 with body ${got}, expected ${want}`);
}

export function httpScenario(spec: HttpScenarioSpec): Scenario {
  const measure = async (env: BenchEnv, target: TargetName): Promise<LoadResult> => {
    const proxy =
      target === 'direct' ? [] : await processTree(target === 'nginx' ? env.nginxPid : proxyOf(env, spec.proxy ?? 'trustgate').pid);
    const before = { registry: await cpuMicros([env.registryPid]), proxy: await cpuMicros(proxy) };
    const measured = await runLoad(request(spec, env, target), env.load, env.workDir);
    const per = (after: number, start: number): number => (measured.requests > 0 ? (after - start) / measured.requests : 0);
    const result = {
      ...measured,
      cpuUsPerRequest: {
        registry: per(await cpuMicros([env.registryPid]), before.registry),
        proxy: per(await cpuMicros(proxy), before.proxy),
      },
    };
    const size = spec.bodyBytes?.(env);
    return size === undefined || result.requestsPerSec === null ? result : { ...result, bytesPerSec: result.requestsPerSec * size };
  };
  return {
    name: spec.name,
    measures: spec.measures,
    tools: [toolFor(spec.method), 'nginx'],
    ...(spec.proxy === 'cached' ? { cachedTrustgate: true } : {}),
    async check(env) {
      await spec.prepare?.(env);
      for (const target of TARGETS) await checkOne(spec, env, where(spec, target), request(spec, env, target));
    },
    async run(env): Promise<LoadRound> {
      const direct = await measure(env, 'direct');
      const nginx = await measure(env, 'nginx');
      const trustgate = await measure(env, 'trustgate');
      const cache = spec.proxy === 'cached' ? env.cachedProxy : undefined;
      return { kind: 'load', direct, nginx, trustgate, ...(cache === undefined ? {} : { cacheDirBytes: await dirBytes(cache.cacheDir) }) };
    },
    async warmUp(env, seconds) {
      for (const target of TARGETS) await runLoad(request(spec, env, target), env.load, env.workDir, seconds);
    },
  };
}
