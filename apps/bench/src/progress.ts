/**
 * The progress line on stderr. On a terminal the status is rewritten in place; elsewhere (CI logs) a status is
 * printed at most every few seconds so the log shows the run is alive without flooding it.
 */
export class Progress {
  readonly #stream: NodeJS.WriteStream;
  readonly #tty: boolean;
  readonly #quietMs: number;
  #prefix = '';
  #lastPrinted = 0;
  #showing = false;

  constructor(stream: NodeJS.WriteStream = process.stderr, { quietMs = 5_000 }: { quietMs?: number } = {}) {
    this.#stream = stream;
    this.#tty = stream.isTTY === true;
    this.#quietMs = quietMs;
  }

  /** A line that stays (a phase started, a target was skipped…). */
  line(text: string): void {
    this.#clear();
    this.#stream.write(`bench: ${text}\n`);
  }

  /** The context of the following statuses, e.g. `[3/24] fanout · chorus-3 · rep 2/3`. */
  phase(prefix: string): void {
    this.#prefix = prefix;
    this.#status(`bench: ${prefix}`, true);
  }

  /** The current state of the phase; replaces the previous status. */
  status(text: string): void {
    this.#status(`bench: ${this.#prefix}${this.#prefix ? ': ' : ''}${text}`, false);
  }

  #status(full: string, always: boolean): void {
    if (this.#tty) {
      const width = this.#stream.columns ?? 120;
      this.#stream.write(`\r\x1b[K${full.slice(0, width - 1)}`);
      this.#showing = true;
      return;
    }
    const now = Date.now();
    if (!always && now - this.#lastPrinted < this.#quietMs) return;
    this.#lastPrinted = now;
    this.#stream.write(`${full}\n`);
  }

  /** Ends an in-place status line. */
  done(): void {
    this.#clear();
  }

  #clear(): void {
    if (this.#showing) this.#stream.write('\r\x1b[K');
    this.#showing = false;
  }
}
