import type { Logger } from './logger.ts';

/** Callbacks told of a change; a store's `onChange`/`onPosted` hands out `add`. */
export interface Listeners<T> {
  /** Returns the unsubscribe function; a listener added twice is called twice. */
  add(listener: (value: T) => void): () => void;
  /** Calls every listener; one that throws is logged and does not stop the others. */
  emit(value: T): void;
  clear(): void;
}

/** `what` names the listeners in the failure log; `fields` adds what identifies the value (never a secret). */
export function createListeners<T>(logger: Logger, what: string, fields: (value: T) => Record<string, unknown>): Listeners<T> {
  const listeners = new Set<(value: T) => void>();
  return {
    add(listener) {
      const own = (value: T): void => listener(value);
      listeners.add(own);
      return () => void listeners.delete(own);
    },
    emit(value) {
      for (const listener of [...listeners]) {
        try {
          listener(value);
        } catch (error) {
          logger.error({ err: error instanceof Error ? error.message : String(error), ...fields(value) }, `${what} listener failed`);
        }
      }
    },
    clear: () => listeners.clear(),
  };
}
