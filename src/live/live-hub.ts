import { GraphQLError } from 'graphql';
import type { ErrorCode } from '../errors.js';
import { Ending, LiveQueue } from './live-queue.js';

/**
 * This process's subscribers, by topic (`runs:user:<id>`, `nodes:<run id>`, `session:<id>`, …), and the live
 * connections, by API key. The notifications (notifications.ts) are turned into items by the domains' publishers and
 * handed to the subscribers of their topics here; nothing here reads the database. One per server instance.
 */
export type LiveLimits = {
  /** Events a subscriber may fall behind before its subscription ends (SLOW_CONSUMER). */
  maxQueuedEvents: number;
  /** Subscriptions one API key may have open on this process. */
  maxSubscriptionsPerKey: number;
  /** Live connections (WebSockets, event streams) one API key may have open on this process. */
  maxConnectionsPerKey: number;
  /** A live connection whose written bytes wait this long without any being read is closed as a slow consumer. */
  stallMs: number;
};

export const DEFAULT_LIVE_LIMITS: LiveLimits = { maxQueuedEvents: 1_000, maxSubscriptionsPerKey: 100, maxConnectionsPerKey: 20, stallMs: 30_000 };

const liveError = (code: ErrorCode, message: string) => new GraphQLError(message, { extensions: { code } });

export const slowConsumer = (maxQueuedEvents: number) =>
  liveError('SLOW_CONSUMER', `This subscriber fell more than ${maxQueuedEvents} events behind and was ended; read events as they come, then subscribe again.`);
export const shuttingDown = () => liveError('SHUTTING_DOWN', 'The server is stopping; subscribe again (another server process answers).');

type Subscriber<T> = {
  queue: LiveQueue<T>;
  apiKeyId: string;
  /** The permissions the subscription was authorized with (a key whose permissions change is ended). */
  permissions: string;
  /** Whether an item of the topic is for this subscriber (its filter). */
  accepts(item: T): boolean;
  /** The item this subscriber is given when notifications may have been lost since `since`. */
  missed(since: Date): T;
};

/** A live connection of an API key: closed when the key stops being valid. */
export type LiveConnection = { apiKeyId: string; close(error: GraphQLError): void };

export type SubscribeOptions<T> = {
  apiKeyId: string;
  permissions: readonly string[];
  accepts?: (item: T) => boolean;
  missed: (since: Date) => T;
  /** Called when the subscriber falls `maxQueuedEvents` behind: its transport closes the connection. */
  onOverflow?: () => void;
};

export class LiveHub {
  private readonly topics = new Map<string, Set<Subscriber<unknown>>>();
  private readonly byKey = new Map<string, Set<Subscriber<unknown>>>();
  private readonly connections = new Map<string, Set<LiveConnection>>();
  private closed = false;

  constructor(readonly limits: LiveLimits = DEFAULT_LIVE_LIMITS) {}

  /** Registers a subscriber of `topic`; TOO_MANY_SUBSCRIPTIONS past the key's limit, SHUTTING_DOWN once closing. */
  subscribe<T>(topic: string, options: SubscribeOptions<T>): LiveQueue<T> {
    if (this.closed) throw shuttingDown();
    const ofKey = this.byKey.get(options.apiKeyId);
    if ((ofKey?.size ?? 0) >= this.limits.maxSubscriptionsPerKey) {
      throw liveError('TOO_MANY_SUBSCRIPTIONS', `This API key has ${this.limits.maxSubscriptionsPerKey} subscriptions open on this server, as many as it may; end one first.`);
    }
    const subscriber: Subscriber<T> = {
      apiKeyId: options.apiKeyId,
      permissions: [...options.permissions].sort().join(','),
      accepts: options.accepts ?? (() => true),
      missed: options.missed,
      queue: new LiveQueue<T>(
        this.limits.maxQueuedEvents,
        () => {
          options.onOverflow?.();
          return slowConsumer(this.limits.maxQueuedEvents);
        },
        () => this.remove(topic, subscriber as Subscriber<unknown>),
      ),
    };
    add(this.topics, topic, subscriber as Subscriber<unknown>);
    add(this.byKey, options.apiKeyId, subscriber as Subscriber<unknown>);
    return subscriber.queue;
  }

  /** Whether anyone listens to `topic` here (publishers read nothing for a topic without subscribers). */
  has(topic: string): boolean {
    return this.topics.has(topic);
  }

  /** Hands `item` to each subscriber of `topic` that accepts it. */
  publish<T>(topic: string, item: T): void {
    const subscribers = this.topics.get(topic) as Set<Subscriber<T>> | undefined;
    if (!subscribers) return;
    for (const subscriber of [...subscribers]) if (subscriber.accepts(item)) subscriber.queue.push(item);
  }

  /** Ends every subscription of `topic` with `error` (a deleted session). */
  endTopic(topic: string, error: Error): void {
    for (const subscriber of [...(this.topics.get(topic) ?? [])]) subscriber.queue.end(error);
  }

  /** Notifications may have been lost since `since`: every subscriber is told, in its own terms. */
  missed(since: Date): void {
    for (const subscribers of this.topics.values()) for (const subscriber of [...subscribers]) subscriber.queue.push(subscriber.missed(since));
  }

  /** Registers a live connection; TOO_MANY_SUBSCRIPTIONS past the key's limit. Returns its release. */
  connect(connection: LiveConnection): () => void {
    if (this.closed) throw shuttingDown();
    const open = this.connections.get(connection.apiKeyId);
    if ((open?.size ?? 0) >= this.limits.maxConnectionsPerKey) {
      throw liveError('TOO_MANY_SUBSCRIPTIONS', `This API key has ${this.limits.maxConnectionsPerKey} live connections open on this server, as many as it may.`);
    }
    add(this.connections, connection.apiKeyId, connection);
    return () => remove(this.connections, connection.apiKeyId, connection);
  }

  /** API keys with subscriptions or connections open here. */
  liveKeys(): string[] {
    return [...new Set([...this.byKey.keys(), ...this.connections.keys()])];
  }

  /**
   * The key is no longer what its subscribers were authorized with. `permissions` null: revoked or gone, everything of
   * it ends (connections closed); else the subscriptions authorized with other permissions end.
   */
  keyChanged(apiKeyId: string, permissions: readonly string[] | null, error: GraphQLError): void {
    const current = permissions && [...permissions].sort().join(',');
    for (const subscriber of [...(this.byKey.get(apiKeyId) ?? [])]) if (subscriber.permissions !== current) subscriber.queue.end(error, true);
    if (permissions === null) for (const connection of [...(this.connections.get(apiKeyId) ?? [])]) connection.close(error);
  }

  /** Subscriptions open here (metrics, tests). */
  get subscriptionCount(): number {
    let count = 0;
    for (const subscribers of this.byKey.values()) count += subscribers.size;
    return count;
  }

  /** Ends every subscription (SHUTTING_DOWN) and refuses new ones. */
  close(): void {
    this.closed = true;
    for (const subscribers of [...this.byKey.values()]) for (const subscriber of [...subscribers]) subscriber.queue.end(shuttingDown());
  }

  private remove(topic: string, subscriber: Subscriber<unknown>): void {
    remove(this.topics, topic, subscriber);
    remove(this.byKey, subscriber.apiKeyId, subscriber);
  }
}

function add<K, V>(map: Map<K, Set<V>>, key: K, value: V): void {
  let set = map.get(key);
  if (!set) map.set(key, (set = new Set()));
  set.add(value);
}

function remove<K, V>(map: Map<K, Set<V>>, key: K, value: V): void {
  const set = map.get(key);
  if (!set) return;
  set.delete(value);
  if (set.size === 0) map.delete(key);
}

export { Ending };
