// A scenario that sends one fixed request over and over: first straight to the
// registry, then to trustgate, with the same wrk settings.
import { createHash } from 'node:crypto';
import { runLoad, toolFor } from './load.ts';
import type { LoadRequest } from './load.ts';
import type { BenchEnv, Scenario } from './types.ts';

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
}

function request(spec: HttpScenarioSpec, env: BenchEnv, base: string): LoadRequest {
  return { method: spec.method, url: `${base}${spec.path(env)}`, headers: { Accept: CONTAINERD_ACCEPT } };
}

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
  return {
    name: spec.name,
    measures: spec.measures,
    tools: [toolFor(spec.method)],
    async check(env) {
      await checkOne(spec, env, 'direct', request(spec, env, env.registryUrl));
      await checkOne(spec, env, 'via trustgate', request(spec, env, env.proxyUrl));
    },
    async run(env) {
      const direct = await runLoad(request(spec, env, env.registryUrl), env.load, env.workDir);
      const proxy = await runLoad(request(spec, env, env.proxyUrl), env.load, env.workDir);
      return { direct, proxy };
    },
    async warmUp(env, seconds) {
      await runLoad(request(spec, env, env.registryUrl), env.load, env.workDir, seconds);
      await runLoad(request(spec, env, env.proxyUrl), env.load, env.workDir, seconds);
    },
  };
}

