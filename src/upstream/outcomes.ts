/** What the last real request to an upstream says about it; `unknown` until one has been made. */
export type UpstreamHealth = 'up' | 'down' | 'unknown';

/**
 * The outcome of the most recent upstream request, per upstream, fed by the upstream clients
 * (their `onOutcome` hook). Costs nothing: no probe traffic, only what pulls already send.
 */
export interface UpstreamOutcomes {
  record(upstream: string, reachable: boolean): void;
  state(upstream: string): UpstreamHealth;
  /** Every known upstream, in the order given at creation. */
  states(): Record<string, UpstreamHealth>;
}

export function createUpstreamOutcomes(names: readonly string[]): UpstreamOutcomes {
  const last = new Map<string, UpstreamHealth>(names.map((name) => [name, 'unknown']));
  const state = (upstream: string): UpstreamHealth => last.get(upstream) ?? 'unknown';
  return {
    record: (upstream, reachable) => void last.set(upstream, reachable ? 'up' : 'down'),
    state,
    states: () => Object.fromEntries([...last.keys()].map((name) => [name, state(name)])),
  };
}
