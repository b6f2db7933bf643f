/**
 * One read at a time per key: callers asking for a key while its read runs share that read's
 * answer rather than each sending their own (a thousand waiting requests, one query). Only for
 * answers that may be as old as the read's start: what must see the database as it is now
 * reads on its own.
 */
export class SingleFlight<T> {
  private readonly running = new Map<string, Promise<T>>();

  get size(): number {
    return this.running.size;
  }

  run(key: string, read: () => Promise<T>): Promise<T> {
    const running = this.running.get(key);
    if (running) return running;
    const started = read().finally(() => {
      if (this.running.get(key) === started) this.running.delete(key);
    });
    this.running.set(key, started);
    return started;
  }
}
