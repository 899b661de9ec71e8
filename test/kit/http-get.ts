// Minimal HTTP(S) GET for tests that need a custom CA (global fetch cannot
// take one per request) or want raw status/headers without redirects.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import { readFileSync } from 'node:fs';

export interface HttpGetResult {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface HttpGetOptions {
  method?: string;
  headers?: Record<string, string>;
  /** PEM file of the CA to trust for https URLs. */
  caFile?: string;
  timeoutMs?: number;
}

export function httpGet(url: string, options: HttpGetOptions = {}): Promise<HttpGetResult> {
  const u = new URL(url);
  const isHttps = u.protocol === 'https:';
  const request = isHttps ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(
      u,
      {
        method: options.method ?? 'GET',
        headers: options.headers ?? {},
        timeout: options.timeoutMs ?? 5000,
        agent: false,
        ...(isHttps && options.caFile ? { ca: readFileSync(options.caFile) } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`httpGet: timeout for ${url}`)));
    req.on('error', reject);
    req.end();
  });
}
