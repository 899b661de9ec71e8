import type { Logger } from '../log/logger.ts';
import type { Digest } from '../oci/reference.ts';

/** The `onPosted` listeners of a scan store. */
export interface PostedListeners {
  add(listener: (digest: Digest) => void): () => void;
  /** Calls every listener; one that throws is logged and does not stop the others. */
  emit(digest: Digest): void;
  clear(): void;
}

export function createPostedListeners(logger: Logger): PostedListeners {
  const listeners = new Set<(digest: Digest) => void>();
  return {
    add(listener) {
      const own = (digest: Digest): void => listener(digest); // a listener added twice is called twice
      listeners.add(own);
      return () => void listeners.delete(own);
    },
    emit(digest) {
      for (const listener of [...listeners]) {
        try {
          listener(digest);
        } catch (error) {
          logger.error({ err: error instanceof Error ? error.message : String(error), digest }, 'scan posted listener failed');
        }
      }
    },
    clear: () => listeners.clear(),
  };
}
