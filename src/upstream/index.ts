export { createUpstreamClient, type UpstreamClientOptions } from './client.ts';
export type { UpstreamClient, UpstreamRequest, UpstreamResponse } from './types.ts';
export { parseChallenges, type Challenge } from './www-authenticate.ts';
