// One teardown list for the whole run: registered steps run once, last first,
// on normal exit, on an error, and on SIGINT/SIGTERM.
type Step = () => unknown;

const steps: Array<{ label: string; step: Step }> = [];
let running: Promise<void> | undefined;

/** Registers a teardown step; returns a function that unregisters it (for steps already done). */
export function onCleanup(label: string, step: Step): () => void {
  const entry = { label, step };
  steps.push(entry);
  return () => {
    const at = steps.indexOf(entry);
    if (at !== -1) steps.splice(at, 1);
  };
}

/** Runs every registered step (each at most once), reporting but not throwing failures. */
export function cleanupAll(): Promise<void> {
  running ??= (async () => {
    while (steps.length > 0) {
      const { label, step } = steps.pop()!;
      try {
        await step();
      } catch (error) {
        process.stderr.write(`bench: teardown of ${label} failed: ${error instanceof Error ? error.message : String(error)}\n`);
      }
    }
  })();
  return running;
}

let signalled: NodeJS.Signals | undefined;

/** The signal that started the teardown, if one did. */
export const stoppedBy = (): NodeJS.Signals | undefined => signalled;

/**
 * Tears down and exits on Ctrl-C or SIGTERM. Repeats are ignored while tearing
 * down: `npm run` relays the terminal's SIGINT, so the process gets it twice,
 * and a second default handler would kill it before the teardown ends.
 */
export function cleanupOnSignals(): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (signalled !== undefined) return;
      signalled = signal;
      process.stderr.write(`\nbench: ${signal}, tearing down\n`);
      void cleanupAll().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
    });
  }
}
