import type { ChainableCommander } from 'ioredis';

/** Runs a MULTI (or pipeline) and rejects with the first failed command's error: ioredis resolves those. */
export async function execAll(batch: ChainableCommander): Promise<unknown[]> {
  const replies = await batch.exec();
  if (replies === null) throw new Error('redis transaction aborted');
  const failed = replies.find(([error]) => error !== null);
  if (failed?.[0]) throw failed[0];
  return replies.map(([, value]) => value);
}
