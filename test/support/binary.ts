/** A supertest body parser that keeps the exact bytes (for digests). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function binary(res: any, callback: (err: Error | null, body: Buffer) => void): void {
  const chunks: Buffer[] = [];
  res.on('data', (chunk: Buffer) => chunks.push(chunk));
  res.on('end', () => callback(null, Buffer.concat(chunks)));
}
