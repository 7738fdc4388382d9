/**
 * Runs `flush` over the keys handed to `load`, one flush at a time: keys that arrive while a flush is out wait for the
 * next one, which carries all of them (up to `maxBatch`). Each caller gets its key's result (undefined when `flush`
 * has none for it) or the flush's error. However many callers arrive at once, one statement runs at a time: work
 * shared by every request of a server (authentication) takes one connection, never the pool. Nothing is cached.
 */
export function coalescing<K, V>(flush: (keys: K[]) => Promise<Map<K, V>>, maxBatch = 100) {
  type Waiter = { resolve(value: V | undefined): void; reject(error: unknown): void };
  const pending = new Map<K, Waiter[]>();
  let running = false;

  const drain = async () => {
    if (running || pending.size === 0) return;
    running = true;
    const batch = [...pending].slice(0, maxBatch);
    for (const [key] of batch) pending.delete(key);
    try {
      const results = await flush(batch.map(([key]) => key));
      for (const [key, waiters] of batch) for (const waiter of waiters) waiter.resolve(results.get(key));
    } catch (error) {
      for (const [, waiters] of batch) for (const waiter of waiters) waiter.reject(error);
    } finally {
      running = false;
      void drain();
    }
  };

  return (key: K): Promise<V | undefined> =>
    new Promise<V | undefined>((resolve, reject) => {
      const waiters = pending.get(key);
      if (waiters) waiters.push({ resolve, reject });
      else pending.set(key, [{ resolve, reject }]);
      // The callers of this tick join the first flush.
      if (!running) queueMicrotask(() => void drain());
    });
}
