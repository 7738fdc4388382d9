import { describe, expect, it } from 'vitest';
import { GraphQLError } from 'graphql';
import { Ending, LiveHub } from '../../src/live/live-hub.js';

const options = (overflowed: string[] = []) => ({ apiKeyId: 'key-1', permissions: ['READ_GRAPHS'], missed: () => -1, onOverflow: () => overflowed.push('closed') });
const codeOf = (item: unknown) => (item instanceof Ending ? (item.error as GraphQLError).extensions.code : item);

describe('live hub', () => {
  it('holds at most maxQueuedEvents for a subscriber; past that it ends it (SLOW_CONSUMER), drops the backlog and asks its transport to close', async () => {
    const hub = new LiveHub({ maxQueuedEvents: 3, maxSubscriptionsPerKey: 10, maxConnectionsPerKey: 10, stallMs: 1_000 });
    const overflowed: string[] = [];
    const queue = hub.subscribe<number>('t', options(overflowed));
    for (let i = 1; i <= 5; i++) hub.publish('t', i);
    expect(overflowed).toEqual(['closed']);
    expect(codeOf((await queue.next()).value)).toBe('SLOW_CONSUMER');
    expect((await queue.next()).done).toBe(true);
    expect(hub.has('t')).toBe(false);
    expect(hub.subscriptionCount).toBe(0);
  });

  it('delivers in order, filters, tells subscribers what they missed, and unregisters a subscriber that returns', async () => {
    const hub = new LiveHub();
    const evens = hub.subscribe<number>('t', { ...options(), accepts: (n) => n % 2 === 0 });
    for (let i = 1; i <= 4; i++) hub.publish('t', i);
    hub.missed(new Date());
    expect([(await evens.next()).value, (await evens.next()).value, (await evens.next()).value]).toEqual([2, 4, -1]);
    const waiting = evens.next();
    await evens.return();
    expect((await waiting).done).toBe(true);
    expect(hub.has('t')).toBe(false);
  });

  it('ends a revoked key’s subscriptions at once (the backlog is not delivered) and closes its connections', async () => {
    const hub = new LiveHub();
    const queue = hub.subscribe<number>('t', options());
    const closed: string[] = [];
    hub.connect({ apiKeyId: 'key-1', close: (error) => closed.push(error.message) });
    hub.publish('t', 1);
    hub.keyChanged('key-1', null, new GraphQLError('revoked', { extensions: { code: 'UNAUTHENTICATED' } }));
    expect(codeOf((await queue.next()).value)).toBe('UNAUTHENTICATED');
    expect(closed).toEqual(['revoked']);
    // Permissions that did not change leave a subscription alone.
    const kept = hub.subscribe<number>('t', options());
    hub.keyChanged('key-1', ['READ_GRAPHS'], new GraphQLError('changed'));
    hub.publish('t', 7);
    expect((await kept.next()).value).toBe(7);
  });

  it('refuses subscriptions past the key’s limit, and every subscription once closing', () => {
    const hub = new LiveHub({ maxQueuedEvents: 10, maxSubscriptionsPerKey: 2, maxConnectionsPerKey: 1, stallMs: 1_000 });
    hub.subscribe('a', options());
    hub.subscribe('b', options());
    expect(() => hub.subscribe('c', options())).toThrow(/2 subscriptions open/);
    hub.connect({ apiKeyId: 'key-1', close: () => {} });
    expect(() => hub.connect({ apiKeyId: 'key-1', close: () => {} })).toThrow(/1 live connections/);
    hub.close();
    expect(() => hub.subscribe('d', { ...options(), apiKeyId: 'key-2' })).toThrow(/stopping/);
  });
});
