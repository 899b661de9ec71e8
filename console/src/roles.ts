import type { Session } from './session.ts';

// What each role may do, as README "Who may do what" lists it: the console offers only what the
// token's roles allow. The server decides; this only hides actions that would be refused.
export type Action =
  | 'overview.read'
  | 'audit.read'
  | 'explain'
  | 'breakglass.read'
  | 'breakglass.change'
  | 'keys.read'
  | 'keys.change'
  | 'policy.read'
  | 'policy.change'
  | 'scans.read';

const ALLOWED: Readonly<Record<Action, readonly string[]>> = {
  'overview.read': ['key-manager', 'auditor'],
  'audit.read': ['auditor'],
  explain: ['key-manager', 'auditor'],
  'breakglass.read': ['key-manager', 'auditor'],
  'breakglass.change': ['key-manager'],
  'keys.read': ['key-manager', 'auditor'],
  'keys.change': ['key-manager'],
  'policy.read': ['key-manager', 'auditor'],
  'policy.change': ['key-manager'],
  'scans.read': ['scanner', 'auditor'],
};

/** Words for "your role may not …". */
export const ACTION_WORDS: Readonly<Record<Action, string>> = {
  'overview.read': 'read the overview',
  'audit.read': 'read the audit log',
  explain: 'explain images',
  'breakglass.read': 'list break-glass entries',
  'breakglass.change': 'open or end break glass',
  'keys.read': 'list keys and roots',
  'keys.change': 'add, revoke or rotate keys',
  'policy.read': 'read the policy',
  'policy.change': 'apply or roll back the policy',
  'scans.read': 'read the scan queue and records',
};

/** Role names held, scoped or not ("key-manager@team/**" holds key-manager, within its scope). */
export function roleNames(session: Session): string[] {
  return [...new Set(session.roles.map((r) => (r.includes('@') ? r.slice(0, r.indexOf('@')) : r)))];
}

export function may(session: Session, action: Action): boolean {
  const held = roleNames(session);
  return held.includes('admin') || held.some((r) => ALLOWED[action].includes(r));
}
