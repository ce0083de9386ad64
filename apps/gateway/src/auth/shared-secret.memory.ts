import { newSecret, type SharedSecretStore } from './shared-secret';

/** The embedded mode's secret: one per process (guest tokens do not outlive it, nor does anything else). */
export class MemorySharedSecret implements SharedSecretStore {
  readonly #secret = newSecret();

  async get(): Promise<string> {
    return this.#secret;
  }
}
