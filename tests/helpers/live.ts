import { createClient as createSseClient } from 'graphql-sse';
import { createClient as createWsClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

/** What a subscription delivered: its results, and how it ended. */
export type Received<T> = {
  results: Array<{ data?: T | null; errors?: Array<{ message: string; extensions?: { code?: string } }> }>;
  data: T[];
  error: unknown;
  completed: boolean;
  /** Resolves once `count` results arrived (or the subscription ended); rejects after `timeoutMs`. */
  waitFor(count: number, timeoutMs?: number): Promise<void>;
  /** Resolves once the subscription completed or failed. */
  ended(timeoutMs?: number): Promise<void>;
  stop(): void;
};

function collector<T>(): Received<T> & { sink: { next(value: unknown): void; error(error: unknown): void; complete(): void }; setStop(stop: () => void): void } {
  const waiters = new Set<() => void>();
  let stopFn = () => {};
  const wake = () => {
    for (const waiter of [...waiters]) waiter();
  };
  const until = (done: () => boolean, timeoutMs: number, what: string) =>
    new Promise<void>((resolve, reject) => {
      if (done()) return resolve();
      const check = () => {
        if (!done()) return;
        waiters.delete(check);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`timed out waiting for ${what}; got ${JSON.stringify(received.results).slice(0, 500)}`));
      }, timeoutMs);
      waiters.add(check);
    });
  const received = {
    results: [] as Received<T>['results'],
    data: [] as T[],
    error: undefined as unknown,
    completed: false,
    waitFor: (count: number, timeoutMs = 10_000) => until(() => received.results.length >= count || received.completed || received.error !== undefined, timeoutMs, `${count} results`),
    ended: (timeoutMs = 10_000) => until(() => received.completed || received.error !== undefined, timeoutMs, 'the end'),
    stop: () => stopFn(),
    setStop: (stop: () => void) => (stopFn = stop),
    sink: {
      next(value: unknown) {
        const result = value as Received<T>['results'][number];
        received.results.push(result);
        if (result.data) received.data.push(result.data);
        wake();
      },
      error(error: unknown) {
        received.error = error;
        wake();
      },
      complete() {
        received.completed = true;
        wake();
      },
    },
  };
  return received;
}

/** A real graphql-ws client (the `ws` package) on the server's /graphql; `closed` records how the server closed it. */
export function liveClient(url: string, apiKey: string | null, options: { retryAttempts?: number } = {}) {
  const closes: Array<{ code: number; reason: string }> = [];
  const client: Client = createWsClient({
    url: `${url.replace(/^http/, 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: apiKey ? { authorization: `Bearer ${apiKey}` } : {},
    retryAttempts: options.retryAttempts ?? 0,
    lazy: true,
    on: { closed: (event) => closes.push({ code: (event as { code: number }).code, reason: String((event as { reason: unknown }).reason) }) },
  });
  return { client, closes, ...subscriber(client) };
}

/** A real graphql-sse client in distinct-connections mode (each subscription its own event stream). */
export function sseClient(url: string, apiKey: string | null) {
  const client = createSseClient({
    url: `${url}/graphql`,
    headers: apiKey ? { authorization: `Bearer ${apiKey}` } : {},
    singleConnection: false,
    retryAttempts: 0,
  });
  return { client, ...subscriber(client) };
}

/** Both clients subscribe with a sink and hand back the function that stops the subscription. */
type SinkClient = { subscribe(payload: { query: string; variables: Record<string, unknown> }, sink: ReturnType<typeof collector>['sink']): () => void; dispose(): unknown };

function subscriber(client: SinkClient) {
  return {
    subscribe<T>(query: string, variables: Record<string, unknown> = {}): Received<T> {
      const received = collector<T>();
      received.setStop(client.subscribe({ query, variables }, received.sink));
      return received;
    },
    dispose: () => client.dispose(),
  };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
