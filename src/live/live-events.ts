import type { GraphQLContext } from '../context.js';
import { GraphQLError } from 'graphql';
import { requireViewer } from '../modules/auth/guards.js';
import { Ending, type SubscribeOptions } from './live-hub.js';
import type { LiveQueue } from './live-queue.js';

/**
 * The events of one subscription as graphql-js wants them: each item of `source` mapped to the value its root field
 * resolves (`toPayload`, with the context renewed for the event; null skips the item). An ending is passed through for
 * `resolveLive` to throw, so the client reads it as the event's error and the subscription completes.
 *
 * A plain iterator object rather than an async generator: a generator waiting inside `source.next()` would only run
 * a `return()` (the client unsubscribing) once an event came, and until then the subscriber would stay registered.
 */
export function liveEvents<T, P>(
  ctx: GraphQLContext,
  source: AsyncIterator<T | Ending>,
  toPayload: (item: T) => Promise<P | null> | P | null,
): AsyncIterableIterator<P | Ending> {
  const iterator: AsyncIterableIterator<P | Ending> = {
    async next() {
      for (;;) {
        const result = await source.next();
        if (result.done || result.value instanceof Ending) return result as IteratorResult<P | Ending>;
        ctx.renewForEvent?.();
        let payload: P | null;
        try {
          payload = await toPayload(result.value);
        } catch (error) {
          await source.return?.();
          return { value: new Ending(error instanceof Error ? error : new Error(String(error))), done: false };
        }
        if (payload !== null) return { value: payload, done: false };
      }
    },
    async return() {
      await source.return?.();
      return { value: undefined, done: true };
    },
    async throw(error?: unknown) {
      await source.return?.();
      throw error;
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}

/** The root field's `resolve` for every subscription: an ending is the event's error. */
export function resolveLive<P>(item: P | Ending): P {
  if (item instanceof Ending) throw item.error;
  return item;
}

/**
 * Registers the caller as a subscriber of `topic`, with their key's permissions; a subscriber that falls behind has its
 * connection closed by its transport (`ctx.onSlowConsumer`).
 */
export function subscribeLive<T>(ctx: GraphQLContext, topic: string, options: Pick<SubscribeOptions<T>, 'accepts' | 'missed'>): LiveQueue<T> {
  const viewer = requireViewer(ctx.viewer);
  if (!ctx.live) throw new GraphQLError('Subscriptions are served over graphql-ws (WebSocket) or GraphQL over SSE.', { extensions: { code: 'BAD_REQUEST' } });
  return ctx.live.subscribe(topic, { ...options, apiKeyId: viewer.apiKeyId, permissions: [...viewer.permissions], onOverflow: () => ctx.onSlowConsumer?.() });
}
