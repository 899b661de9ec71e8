// Public surface of the trust store.
export type { Purpose, Revocation, TrustEntry, TrustKind, TrustSnapshot, TrustStore } from './types.ts';
export { createMemoryTrustStore } from './memory-trust-store.ts';
export type { TrustStoreSeed } from './memory-trust-store.ts';
export { createRedisTrustStore } from './redis-trust-store.ts';
export type { RedisTrustStoreOptions } from './redis-trust-store.ts';
export { activeEntries } from './trust-snapshot.ts';
