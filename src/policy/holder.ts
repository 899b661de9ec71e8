import type { Logger } from '../log/logger.ts';
import type { Policy } from './types.ts';

/**
 * The active policy. A reload compiles the file again and swaps it in only when it is valid; a bad
 * file is logged with the field named and the old policy stays.
 */
export class PolicyHolder {
  #current: Policy;
  readonly #load: () => Policy;
  readonly #logger: Logger;
  readonly #listeners = new Set<(policy: Policy) => void>();

  constructor(load: () => Policy, logger: Logger) {
    this.#load = load;
    this.#logger = logger;
    this.#current = load();
  }

  current(): Policy {
    return this.#current;
  }

  reload(): boolean {
    try {
      const next = this.#load();
      if (next.hash === this.#current.hash) return true;
      this.#current = next;
      this.#logger.info({ event: 'policy_reloaded', hash: next.hash, rules: next.rules.length }, 'policy reloaded');
      for (const listener of this.#listeners) listener(next);
      return true;
    } catch (error) {
      this.#logger.error({ event: 'policy_reload_failed', problem: (error as Error).message, keeping: this.#current.hash }, 'policy reload refused; keeping the previous policy');
      return false;
    }
  }

  onChange(listener: (policy: Policy) => void): void {
    this.#listeners.add(listener);
  }
}
