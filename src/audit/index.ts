// Public surface of the audit log.
export type { AuditEntry, AuditEvent, AuditLog, AuditOutcome, AuditPage, AuditQuery } from './types.ts';
export { scrubAudit, UNAUTHENTICATED } from './audit-entry.ts';
export { createMemoryAuditLog } from './memory-audit-log.ts';
export type { MemoryAuditLogOptions } from './memory-audit-log.ts';
export { createRedisAuditLog } from './redis-audit-log.ts';
export type { RedisAuditLogOptions } from './redis-audit-log.ts';
