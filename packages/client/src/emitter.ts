/** A minimal typed event emitter that runs in browsers and Node alike. */
export class Emitter<Events extends Record<string, (...args: never[]) => void>> {
  readonly #handlers = new Map<keyof Events, Set<Events[keyof Events]>>();

  /** Adds a handler; returns a function that removes it. */
  on<E extends keyof Events>(event: E, handler: Events[E]): () => void {
    let set = this.#handlers.get(event);
    if (!set) {
      set = new Set();
      this.#handlers.set(event, set);
    }
    set.add(handler);
    return () => set.delete(handler);
  }

  emit<E extends keyof Events>(event: E, ...args: Parameters<Events[E]>): void {
    for (const handler of this.#handlers.get(event) ?? []) {
      try {
        (handler as (...a: Parameters<Events[E]>) => void)(...args);
      } catch (error) {
        // A failing application handler must not break delivery to the others.
        console.error(`chorus client: ${String(event)} handler threw`, error);
      }
    }
  }
}
