// A streaming GET with node:http for the 1 GiB blob: the body is counted (and,
// when asked, hashed) chunk by chunk and never kept, so the harness's memory
// does not grow with the blob.
import { createHash } from 'node:crypto';
import { get } from 'node:http';
import type { Agent } from 'node:http';
import { performance } from 'node:perf_hooks';

export interface Streamed {
  status: number;
  bytes: number;
  /** From the call to the last body byte. */
  ms: number;
  /** sha256:<hex> of the body, when hashing was asked for. */
  digest: string | undefined;
}

/** `agent`: a keep-alive agent to reuse connections (cold-start); by default every GET opens its own. */
export function streamGet(url: string, options: { hash?: boolean; timeoutMs?: number; agent?: Agent } = {}): Promise<Streamed> {
  const started = performance.now();
  const hash = options.hash ? createHash('sha256') : undefined;
  return new Promise((resolve, reject) => {
    const req = get(url, { agent: options.agent ?? false, timeout: options.timeoutMs ?? 120_000 }, (res) => {
      let bytes = 0;
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        hash?.update(chunk);
      });
      res.once('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          bytes,
          ms: performance.now() - started,
          digest: hash ? `sha256:${hash.digest('hex')}` : undefined,
        }),
      );
      res.once('error', reject);
    });
    req.once('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.once('error', reject);
  });
}
