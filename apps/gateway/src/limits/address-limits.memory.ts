import type { AddressLimitStore } from './address-limits';

/** The embedded-mode twin: one process holds every connection, so plain maps are the whole truth. */
export class MemoryAddressLimitStore implements AddressLimitStore {
  readonly #connections = new Map<string, number>();
  readonly #usage = new Map<string, number>();

  async open(address: string, _node: string, max: number): Promise<boolean> {
    const open = this.#connections.get(address) ?? 0;
    if (open >= max) return false;
    this.#connections.set(address, open + 1);
    return true;
  }

  async close(address: string): Promise<void> {
    const open = (this.#connections.get(address) ?? 0) - 1;
    if (open > 0) this.#connections.set(address, open);
    else this.#connections.delete(address);
  }

  async refresh(): Promise<void> {}

  async add(kind: string, window: number, _windowMs: number, usage: ReadonlyMap<string, number>) {
    // Only the current window matters: older ones are dropped as soon as a newer one is used.
    for (const key of this.#usage.keys()) {
      const [k, w] = key.split('|');
      if (k === kind && Number(w) < window) this.#usage.delete(key);
    }
    const totals = new Map<string, number>();
    for (const [address, amount] of usage) {
      const key = `${kind}|${window}|${address}`;
      const total = (this.#usage.get(key) ?? 0) + amount;
      this.#usage.set(key, total);
      totals.set(address, total);
    }
    return totals;
  }
}
