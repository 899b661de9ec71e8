import type { Session } from './session.ts';

// What each role may do, as README "Who may do what" lists it: the console offers only what the
// token's roles allow. The server decides; this only hides actions that would be refused.
export type Action = 'explain' | 'breakglass.read' | 'breakglass.change';

const ALLOWED: Readonly<Record<Action, readonly string[]>> = {
  explain: ['key-manager', 'auditor'],
  'breakglass.read': ['key-manager', 'auditor'],
  'breakglass.change': ['key-manager'],
};

/** Words for "your role may not …". */
export const ACTION_WORDS: Readonly<Record<Action, string>> = {
  explain: 'explain images',
  'breakglass.read': 'list break-glass entries',
  'breakglass.change': 'open or end break glass',
};

/** Role names held, scoped or not ("key-manager@team/**" holds key-manager, within its scope). */
export function roleNames(session: Session): string[] {
  return [...new Set(session.roles.map((r) => (r.includes('@') ? r.slice(0, r.indexOf('@')) : r)))];
}

export function may(session: Session, action: Action): boolean {
  const held = roleNames(session);
  return held.includes('admin') || held.some((r) => ALLOWED[action].includes(r));
}
