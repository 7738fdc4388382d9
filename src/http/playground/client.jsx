// Browser entry of the self-hosted GraphiQL playground served at /graphiql.
// Bundled by scripts/build-playground.mjs (esbuild, from playground/package.json) into src/http/playground/bundle/,
// which is committed: after a change here, `npm run playground:build` (CI's `npm run playground:check` compares).
// Kept as .jsx so that the server's TypeScript program (no DOM lib, no JSX) does not check it.
//
// Everything the page needs comes from the same origin: the config is read from the
// <script type="application/json" id="playground-config"> block rendered by
// src/http/playground.ts, and Monaco's web workers are separate bundles whose URLs
// are listed in that config.
import { GraphiQL } from 'graphiql';
import { getOperationAST, parse } from 'graphql';
import { liveClients } from './live-client.js';
// @ts-expect-error -- @types/react-dom is not installed; only createRoot(el).render(node) is used.
import { createRoot } from 'react-dom/client';
import 'graphiql/style.css';
import './page.css';

/**
 * @typedef {{
 *   graphqlPath: string;
 *   defaultHeaders?: string;
 *   defaultQuery?: string;
 *   workers: { editor: string; json: string; graphql: string };
 * }} PlaygroundConfig
 */

/** @returns {PlaygroundConfig} */
function readConfig() {
  const element = document.getElementById('playground-config');
  if (!element || !element.textContent) throw new Error('playground: missing #playground-config');
  return JSON.parse(element.textContent);
}

const config = readConfig();

// Must be set before GraphiQL lazily imports monaco-editor (it happens on mount).
// Replaces graphiql's `setup-workers/esm.sh` helper, which would load workers from esm.sh.
/** @type {{ MonacoEnvironment?: unknown }} */ (globalThis).MonacoEnvironment = {
  /** @param {string} _workerId @param {string} label */
  getWorker(_workerId, label) {
    const url =
      label === 'graphql' ? config.workers.graphql : label === 'json' ? config.workers.json : config.workers.editor;
    return new Worker(new URL(url, window.location.href), { type: 'module', name: `monaco-${label}` });
  },
};

/** The headers the page was served with (the demo key on a loopback request), parsed; {} when none or unreadable. */
function defaultHeaders() {
  try {
    return config.defaultHeaders ? JSON.parse(config.defaultHeaders) : {};
  } catch {
    return {};
  }
}

/** Whether the operation GraphiQL runs is a subscription (which goes over a WebSocket). */
function isSubscription(params) {
  try {
    return getOperationAST(parse(params.query), params.operationName ?? undefined)?.operation === 'subscription';
  } catch {
    return false;
  }
}

const liveClient = liveClients(config.graphqlPath, 3);

/**
 * Same-origin fetcher: queries and mutations as POST + JSON, subscriptions over graphql-ws (GraphiQL shows each event
 * as it arrives, until the operation is stopped).
 * @param {{ query: string; variables?: unknown; operationName?: string | null }} params
 * @param {{ headers?: Record<string, string> }} [options]
 */
async function fetcher(params, options) {
  const headers = options?.headers ?? defaultHeaders();
  if (isSubscription(params)) {
    const authorization = Object.entries(headers).find(([name]) => name.toLowerCase() === 'authorization')?.[1] ?? '';
    return liveClient(String(authorization)).iterate({ query: params.query, variables: params.variables ?? {}, operationName: params.operationName ?? undefined });
  }
  const response = await fetch(config.graphqlPath, {
    method: 'POST',
    credentials: 'same-origin',
    headers: {
      accept: 'application/graphql-response+json, application/json',
      'content-type': 'application/json',
      // GraphiQL's first schema request may come before its headers editor has a value: the page's own headers then.
      ...headers,
    },
    body: JSON.stringify(params),
  });
  const text = await response.text();
  try {
    return JSON.parse(text);
  } catch {
    return { errors: [{ message: `HTTP ${response.status} ${response.statusText}: ${text.slice(0, 2000)}` }] };
  }
}

/**
 * localStorage wrapper: GraphiQL restores its tabs from storage but (with
 * shouldPersistHeaders=false) drops their headers, which would lose the server-provided
 * default headers (e.g. the demo API key) after a reload. Fill them back in.
 */
function createStorage() {
  /** @type {globalThis.Storage} */
  let store;
  try {
    store = window.localStorage;
    store.getItem('graphiql:probe');
  } catch {
    store = createMemoryStorage(); // storage disabled (privacy mode, sandbox): no persistence
  }
  const graphiqlKeys = () => {
    const keys = [];
    for (let index = 0; index < store.length; index++) {
      const key = store.key(index);
      if (key?.startsWith('graphiql:')) keys.push(key);
    }
    return keys;
  };
  return {
    /** @param {string} key */
    getItem(key) {
      const value = store.getItem(key);
      if (key !== 'graphiql:tabs' || !value || !config.defaultHeaders) return value;
      try {
        const state = JSON.parse(value);
        if (state && Array.isArray(state.tabs)) {
          for (const tab of state.tabs) {
            if (tab && typeof tab === 'object' && !tab.headers) tab.headers = config.defaultHeaders;
          }
          return JSON.stringify(state);
        }
      } catch {
        // fall through: let GraphiQL discard invalid state
      }
      return value;
    },
    /** @param {string} key @param {string} value */
    setItem: (key, value) => store.setItem(key, value),
    /** @param {string} key */
    removeItem: (key) => store.removeItem(key),
    clear() {
      for (const key of graphiqlKeys()) store.removeItem(key);
    },
    get length() {
      return graphiqlKeys().length;
    },
  };
}

/** @returns {globalThis.Storage} */
function createMemoryStorage() {
  const items = new Map();
  return {
    getItem: (key) => items.get(key) ?? null,
    setItem: (key, value) => void items.set(key, String(value)),
    removeItem: (key) => void items.delete(key),
    clear: () => items.clear(),
    key: (index) => [...items.keys()][index] ?? null,
    get length() {
      return items.size;
    },
  };
}

const container = document.getElementById('graphiql');
if (!container) throw new Error('playground: missing #graphiql container');

createRoot(container).render(
  <GraphiQL
    fetcher={fetcher}
    defaultQuery={config.defaultQuery}
    defaultHeaders={config.defaultHeaders}
    defaultEditorToolsVisibility={config.defaultHeaders ? 'headers' : undefined}
    shouldPersistHeaders={false}
    storage={createStorage()}
  />,
);
