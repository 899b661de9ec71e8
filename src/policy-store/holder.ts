import type { Logger } from '../log/logger.ts';
import type { Policy } from '../policy/types.ts';

/** Where the active policy came from: the policy file, or a version applied through the admin API. */
export interface PolicyOrigin {
  readonly source: 'file' | 'api';
  /** The API version (absent for the file). */
  readonly version?: number;
  /** Who applied it through the API, and when (epoch ms). */
  readonly actor?: string;
  readonly time?: number;
}

export interface PolicyHolderOptions {
  /** Compiles policy text (the same checks as the file gets); throws a ConfigError naming the field. */
  readonly compile?: (text: string, source: string) => Policy;
  /**
   * Called on a reload with a file policy about to replace the running one; throwing refuses it as
   * a bad file is refused (logged, counted, the running policy stays). The runtime passes the
   * checks at start (policy/setup-check.ts) here.
   */
  readonly vet?: (next: Policy) => void;
}

/**
 * The active policy. A reload compiles the file again and swaps it in only when it is valid; a bad
 * file is logged with the field named and the old policy stays. Once a policy was applied through
 * the admin API (`apply`), it stays active: the file is the baseline only while no API policy exists.
 */
export class PolicyHolder {
  #current: Policy;
  #origin: PolicyOrigin = { source: 'file' };
  readonly #load: () => Policy;
  readonly #logger: Logger;
  readonly #compile: ((text: string, source: string) => Policy) | undefined;
  readonly #vet: ((next: Policy) => void) | undefined;
  readonly #listeners = new Set<(policy: Policy) => void>();
  readonly #failureListeners = new Set<() => void>();

  constructor(load: () => Policy, logger: Logger, options: PolicyHolderOptions = {}) {
    this.#load = load;
    this.#logger = logger;
    this.#compile = options.compile;
    this.#vet = options.vet;
    this.#current = load();
  }

  current(): Policy {
    return this.#current;
  }

  origin(): PolicyOrigin {
    return this.#origin;
  }

  reload(): boolean {
    try {
      const next = this.#load();
      if (this.#origin.source === 'api') {
        this.#logger.info(
          { event: 'policy_file_ignored', fileHash: next.hash, active: this.#current.hash, version: this.#origin.version },
          'policy file read, but the policy applied through the admin API stays active',
        );
        return true;
      }
      if (next.hash === this.#current.hash) return true;
      this.#vet?.(next);
      this.#swap(next, { source: 'file' });
      this.#logger.info({ event: 'policy_reloaded', hash: next.hash, rules: next.rules.length }, 'policy reloaded');
      return true;
    } catch (error) {
      this.#logger.error(
        { event: 'policy_reload_failed', problem: (error as Error).message, keeping: this.#current.hash },
        'policy reload refused; keeping the previous policy',
      );
      for (const listener of this.#failureListeners) listener();
      return false;
    }
  }

  /** Compiles `text` without applying it (throws a ConfigError naming the field). */
  compile(text: string, source: string): Policy {
    if (this.#compile === undefined) throw new Error('this policy holder compiles no text');
    return this.#compile(text, source);
  }

  /** Compiles and swaps in a policy from text; a bad one throws and the running policy stays. */
  apply(text: string, origin: PolicyOrigin): Policy {
    let next: Policy;
    try {
      next = this.compile(text, origin.source === 'api' ? `admin API policy v${origin.version ?? '?'}` : 'policy');
    } catch (error) {
      this.#logger.error(
        { event: 'policy_apply_failed', version: origin.version, problem: (error as Error).message, keeping: this.#current.hash },
        'policy refused; keeping the running policy',
      );
      throw error;
    }
    this.#swap(next, origin);
    this.#logger.info(
      {
        event: 'policy_applied',
        source: origin.source,
        version: origin.version,
        hash: next.hash,
        rules: next.rules.length,
        by: origin.actor,
      },
      'policy applied',
    );
    return next;
  }

  onChange(listener: (policy: Policy) => void): void {
    this.#listeners.add(listener);
  }

  /** Called after each refused reload of the file (for the reload-failure counter). */
  onReloadFailed(listener: () => void): void {
    this.#failureListeners.add(listener);
  }

  #swap(next: Policy, origin: PolicyOrigin): void {
    const changed = next.hash !== this.#current.hash;
    this.#current = next;
    this.#origin = origin;
    if (changed) for (const listener of this.#listeners) listener(next);
  }
}
