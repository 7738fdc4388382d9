/**
 * The events waiting for one subscriber, as the async iterator graphql-js maps into answers. The transports await each
 * answer's write before they ask for the next event (graphql-ws awaits `socket.send`; the SSE transport awaits drain),
 * so a client that does not read leaves its events here, and here they are bounded: past `capacity`, the subscription
 * ends with `overflow()`'s error and the queue holds nothing more.
 *
 * An ending (revocation, a deleted session, overflow, shutdown) is delivered as an error *after* what was queued
 * before it, except overflow, which drops the backlog: the error is the next thing the client reads.
 */
export class Ending {
  constructor(readonly error: Error) {}
}

export class LiveQueue<T> implements AsyncIterableIterator<T | Ending> {
  private items: Array<T | Ending> = [];
  private waiter: ((result: IteratorResult<T | Ending>) => void) | null = null;
  private ending: Ending | null = null;
  private finished = false;

  constructor(
    private readonly capacity: number,
    /** What ends a subscriber that fell `capacity` events behind. */
    private readonly overflow: () => Error,
    /** Called once when the queue is done, whichever way (the subscriber is unregistered there). */
    private readonly onFinish: () => void,
  ) {}

  get size(): number {
    return this.items.length;
  }

  get closed(): boolean {
    return this.finished || this.ending !== null;
  }

  /** Queues an event; false when the subscription is over (ended, or just now for overflowing). */
  push(item: T): boolean {
    if (this.closed) return false;
    if (this.waiter) {
      const waiter = this.waiter;
      this.waiter = null;
      waiter({ value: item, done: false });
      return true;
    }
    if (this.items.length >= this.capacity) {
      this.end(this.overflow(), true);
      return false;
    }
    this.items.push(item);
    return true;
  }

  /** Ends the subscription with `error`: after the events already queued, or at once with `discardQueued`. */
  end(error: Error, discardQueued = false): void {
    if (this.closed) return;
    if (discardQueued) this.items = [];
    this.ending = new Ending(error);
    if (this.waiter) {
      const waiter = this.waiter;
      this.waiter = null;
      waiter({ value: this.ending, done: false });
      this.ending = null;
      this.finish();
    }
  }

  next(): Promise<IteratorResult<T | Ending>> {
    const item = this.items.shift();
    if (item !== undefined) return Promise.resolve({ value: item, done: false });
    if (this.ending) {
      const ending = this.ending;
      this.ending = null;
      this.finish();
      return Promise.resolve({ value: ending, done: false });
    }
    if (this.finished) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => (this.waiter = resolve));
  }

  /** The client ended the subscription (or the connection closed). */
  return(): Promise<IteratorResult<T | Ending>> {
    this.items = [];
    this.ending = null;
    this.finish();
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(error?: unknown): Promise<IteratorResult<T | Ending>> {
    void this.return();
    return Promise.reject(error);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    const waiter = this.waiter;
    this.waiter = null;
    waiter?.({ value: undefined, done: true });
    this.onFinish();
  }
}
