import { compileTrust, type CompiledTrust } from './compile.ts';
import type { TrustStore } from './types.ts';

/** The compiled trust store, recompiled only when the store's version changes. */
export function compiledView(store: TrustStore): () => CompiledTrust {
  let compiled = compileTrust(store.snapshot());
  return () => {
    const snapshot = store.snapshot();
    if (snapshot.version !== compiled.version) compiled = compileTrust(snapshot);
    return compiled;
  };
}
