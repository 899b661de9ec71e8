import { TrustgateError } from '../errors/errors.ts';

export interface Body extends AsyncIterable<Uint8Array> {
  destroy(error?: Error): unknown;
  dump(options?: { limit: number }): Promise<void>;
  on(event: 'error', listener: (error: Error) => void): unknown;
}

/** Stops a body and closes its connection; the abort error undici then emits is expected, not a crash. */
function abandon(body: Body): void {
  body.on('error', () => {});
  body.destroy();
}

function tooLarge(upstreamName: string, maxBytes: number): TrustgateError {
  return new TrustgateError('UPSTREAM_MANIFEST_TOO_LARGE', `upstream ${JSON.stringify(upstreamName)} sent more than ${maxBytes} bytes`);
}

/**
 * Reads a whole response body, but never more than `maxBytes` of it: a larger Content-Length is
 * refused before reading, and a body without one is cut off as soon as it passes the cap.
 */
export async function readCapped(body: Body, contentLength: string | undefined, maxBytes: number, upstreamName: string): Promise<Buffer> {
  if (contentLength !== undefined && /^\d+$/.test(contentLength.trim()) && Number(contentLength.trim()) > maxBytes) {
    abandon(body);
    throw tooLarge(upstreamName, maxBytes);
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of body) {
    total += chunk.byteLength;
    if (total > maxBytes) {
      abandon(body);
      throw tooLarge(upstreamName, maxBytes);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, total);
}

/** Discards a body we do not need, keeping the connection reusable when it is small. */
export async function discard(body: Body): Promise<void> {
  try {
    await body.dump({ limit: 64 * 1024 });
  } catch {
    abandon(body);
  }
}
