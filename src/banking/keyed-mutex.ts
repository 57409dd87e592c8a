/**
 * Runs tasks one at a time per key within this process, in the order they came. Across processes
 * a connection's row lock does the same; the sync (one fetch of a connection at a time) and the
 * requests waiting for that lock (`withLockedConnection`) queue here so that waiting costs no
 * database connection.
 */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const result = previous.then(task, task);
    const tail = result.catch(() => {});
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }
}
