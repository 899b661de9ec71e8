import type { Logger } from '../log/logger.ts';
import type { TrustSnapshot } from '../trust/types.ts';

export interface Listeners {
  add(listener: (snapshot: TrustSnapshot) => void): () => void;
  /** Calls every listener; one that throws is logged and does not stop the others. */
  emit(snapshot: TrustSnapshot): void;
  clear(): void;
}

export function createListeners(logger: Logger): Listeners {
  const listeners = new Set<(snapshot: TrustSnapshot) => void>();
  return {
    add(listener) {
      const own = (s: TrustSnapshot): void => listener(s); // a listener added twice is called twice
      listeners.add(own);
      return () => {
        listeners.delete(own);
      };
    },
    emit(snapshot) {
      for (const listener of [...listeners]) {
        try {
          listener(snapshot);
        } catch (error) {
          logger.error(
            { err: error instanceof Error ? error.message : String(error), version: snapshot.version },
            'trust store listener failed',
          );
        }
      }
    },
    clear() {
      listeners.clear();
    },
  };
}
