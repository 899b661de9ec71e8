/** Concurrent callers for one key share one in-flight promise (docs/design.md §4 "Single flight"). */
export class SingleFlight<T> {
  readonly #inflight = new Map<string, Promise<T>>();

  run(key: string, work: () => Promise<T>): Promise<T> {
    const running = this.#inflight.get(key);
    if (running !== undefined) return running;
    const started = work().finally(() => this.#inflight.delete(key));
    this.#inflight.set(key, started);
    return started;
  }

  get size(): number {
    return this.#inflight.size;
  }
}
