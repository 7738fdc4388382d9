// The graphql-ws connection both pages (the playground and the dashboard) open to the same origin's GraphQL endpoint.
import { createClient } from 'graphql-ws';

/**
 * One connection, opened on the first subscription and kept while the Authorization value stays the same (the key
 * goes in the connection's init payload); a new value closes it and opens another.
 * @param {string} graphqlPath
 * @param {number} retryAttempts
 */
export function liveClients(graphqlPath, retryAttempts) {
  /** @type {{ client: ReturnType<typeof createClient>; authorization: string } | null} */
  let live = null;
  /** @param {string} authorization */
  return (authorization) => {
    if (live && live.authorization === authorization) return live.client;
    live?.client.dispose();
    const url = new URL(graphqlPath, window.location.href);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    live = { authorization, client: createClient({ url: url.toString(), connectionParams: { authorization }, lazy: true, retryAttempts }) };
    return live.client;
  };
}
