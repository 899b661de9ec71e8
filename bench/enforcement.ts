// The pre-check every run makes before any scenario's own: signature
// enforcement is really on. The signed bench image is served (and its verdict
// is then cached, so the load scenarios measure the warm path), and the
// unsigned one, under the same policy rule and present on the registry, is
// refused with 403 DENIED by that rule.
import { createHash } from 'node:crypto';
import { CONTAINERD_ACCEPT } from './http-scenario.ts';
import { BENCH_RULE } from './signing.ts';
import type { BenchEnv, BenchImage } from './types.ts';

interface Answer {
  status: number;
  body: Buffer;
}

async function get(where: string, url: string): Promise<Answer> {
  try {
    const res = await fetch(url, { headers: { Accept: CONTAINERD_ACCEPT }, signal: AbortSignal.timeout(10_000) });
    return { status: res.status, body: Buffer.from(await res.arrayBuffer()) };
  } catch (error) {
    throw new Error(`${where}: GET ${url} failed: ${error instanceof Error ? error.message : String(error)}`);
  }
}

const byTag = (base: string, image: BenchImage): string => `${base}/v2/${image.repository}/manifests/${image.tag}`;
const text = (body: Buffer): string => body.toString('utf8', 0, 500).trim();

export async function expectServed(where: string, url: string, image: BenchImage): Promise<void> {
  const { status, body } = await get(where, url);
  if (status !== 200) throw new Error(`${where}: GET ${url} answered ${status}, expected 200: ${text(body)}`);
  const digest = `sha256:${createHash('sha256').update(body).digest('hex')}`;
  if (digest !== image.digest) throw new Error(`${where}: GET ${url} answered 200 with body ${digest}, expected ${image.digest}`);
}

/** Throws unless enforcement is on; returns the denial message trustgate gave for the unsigned image. */
export async function checkEnforcement(env: BenchEnv): Promise<string> {
  await expectServed('signed image, direct', byTag(env.registryUrl, env.image), env.image);
  await expectServed('signed image via trustgate', byTag(env.proxyUrl, env.image), env.image);
  await expectServed('unsigned image, direct', byTag(env.registryUrl, env.unsignedImage), env.unsignedImage);

  const url = byTag(env.proxyUrl, env.unsignedImage);
  const { status, body } = await get('unsigned image via trustgate', url);
  let error: { code?: unknown; message?: unknown; detail?: { rule?: unknown } } | undefined;
  try {
    error = (JSON.parse(body.toString('utf8')) as { errors?: Array<typeof error> }).errors?.[0];
  } catch {
    // not JSON: reported below
  }
  if (status !== 403 || error?.code !== 'DENIED' || error.detail?.rule !== BENCH_RULE) {
    throw new Error(
      `unsigned image via trustgate: GET ${url} answered ${status}, expected 403 DENIED by rule "${BENCH_RULE}" ` +
        `(signature enforcement is not on?): ${text(body)}`,
    );
  }
  return String(error.message);
}
