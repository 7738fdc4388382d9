import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { runtimeAsset } from '../config.js';
import { GraphQLError } from 'graphql';
import type { ErrorCode } from '../errors.js';
import { recordRefusal } from './telemetry/request-record.js';

/**
 * Persisted (trusted) documents: operations a client sends by id instead of by text — Apollo's
 * `extensions.persistedQuery.sha256Hash`, as Apollo Client and GraphQL Code Generator's client preset send it — from
 * manifests loaded at start (`{ "<sha256 of the document>": "<document>" }`, the id with or without a `sha256:` prefix: what the
 * client preset's `persistedDocuments` option emits). The document named is put in the request before anything reads it, so every
 * path (the fast path, hot operations, Apollo, GET, batches, the live transports) sees an ordinary request.
 *
 * Modes: `off` (ids are not accepted), `allow` (ids and texts), `only` (a document whose text is not in a loaded
 * manifest is refused, sent by id or not: the strongest answer to abusive documents a deployment that serves only
 * known clients can choose).
 */
export type PersistedDocumentsMode = 'off' | 'allow' | 'only';

/** The dashboard's manifest, written by `npm run generate` (codegen.yml's client preset): always loaded. */
export const DASHBOARD_MANIFEST = runtimeAsset('src/generated/dashboard/persisted-documents.json');

export const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

const refusal = (code: ErrorCode, message: string) => new GraphQLError(message, { extensions: { code, http: { status: code === 'PERSISTED_QUERY_NOT_FOUND' ? 200 : 400 } } });

/** An id as the client preset writes it (`sha256:<hex>`) or as Apollo Client sends it (`<hex>`): the hex digest. */
const hexId = (id: string) => (id.startsWith('sha256:') ? id.slice('sha256:'.length) : id);

/** The HTTP status a refusal is answered with. */
export const httpStatusOf = (error: GraphQLError): number => (error.extensions.http as { status?: number } | undefined)?.status ?? 400;

/**
 * The same step for what Express serves: POST bodies (parsed), and GET requests, whose operation is in the query
 * string (Apollo reads it from the URL, so a document named by id is written back into the URL).
 */
export function persistedDocumentsMiddleware(documents: PersistedDocuments): import('express').RequestHandler {
  return (req, res, next) => {
    let refused: GraphQLError | null = null;
    if (req.method === 'GET') {
      const url = new URL(req.originalUrl, 'http://localhost');
      const params = url.searchParams;
      let extensions: unknown;
      try {
        extensions = params.has('extensions') ? JSON.parse(params.get('extensions')!) : undefined;
      } catch {
        extensions = undefined; // Apollo answers unreadable extensions itself
      }
      const operation = { query: params.get('query') ?? undefined, extensions };
      refused = documents.resolve(operation);
      if (!refused && operation.query !== undefined && operation.query !== params.get('query')) {
        params.set('query', operation.query);
        params.set('extensions', JSON.stringify(operation.extensions));
        req.url = `${req.url.split('?')[0]}?${params.toString()}`;
      }
    } else {
      refused = documents.resolveBody(req.body);
    }
    if (!refused) return next();
    recordRefusal(req, String(refused.extensions.code));
    res.status(httpStatusOf(refused)).json({ errors: [{ message: refused.message, extensions: { code: refused.extensions.code } }] });
  };
}

/** The documents of the manifest files, by their SHA-256; a manifest whose ids are not its documents' is refused. */
export function loadManifests(files: readonly string[]): Map<string, string> {
  const documents = new Map<string, string>();
  for (const file of files) {
    const manifest = JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;
    if (typeof manifest !== 'object' || manifest === null || Array.isArray(manifest)) throw new Error(`${file}: a persisted-documents manifest is an object of { "<sha256>": "<document>" }`);
    for (const [key, document] of Object.entries(manifest)) {
      const id = hexId(key);
      if (typeof document !== 'string' || sha256(document) !== id) throw new Error(`${file}: ${key} is not the SHA-256 of its document`);
      documents.set(id, document);
    }
  }
  return documents;
}

export type PersistedDocuments = {
  readonly mode: PersistedDocumentsMode;
  /**
   * Puts the document named by id into the operation (in place), or refuses it: PERSISTED_QUERY_NOT_FOUND (an id no
   * manifest holds), PERSISTED_DOCUMENT_REQUIRED (mode `only`, a text no manifest holds). Null when the operation
   * may go on.
   */
  resolve(operation: unknown): GraphQLError | null;
  /** The same for every operation of a body (one, or a batch); the first refusal. */
  resolveBody(body: unknown): GraphQLError | null;
};

export function createPersistedDocuments(mode: PersistedDocumentsMode, documents: ReadonlyMap<string, string>): PersistedDocuments {
  // Texts already hashed: the dashboard sends the same few, and hashing each request's text again is wasted work.
  const known = new Map<string, boolean>();
  const isKnownText = (text: string) => {
    let found = known.get(text);
    if (found === undefined) {
      found = documents.has(sha256(text));
      if (known.size >= 1_000) known.delete(known.keys().next().value!);
      known.set(text, found);
    }
    return found;
  };
  const resolve = (operation: unknown): GraphQLError | null => {
    if (typeof operation !== 'object' || operation === null) return null;
    const op = operation as { query?: unknown; extensions?: { persistedQuery?: { sha256Hash?: unknown } } };
    // Off: Apollo answers an id itself (PERSISTED_QUERY_NOT_SUPPORTED), as before manifests existed.
    if (mode === 'off') return null;
    const persisted = op.extensions?.persistedQuery;
    if (persisted !== undefined) {
      const id = persisted?.sha256Hash;
      const document = typeof id === 'string' ? documents.get(hexId(id)) : undefined;
      if (document === undefined) return refusal('PERSISTED_QUERY_NOT_FOUND', 'No persisted document has this id.');
      // graphql-ws's payload must carry a `query`: an empty one stands for none.
      if (op.query !== undefined && op.query !== '' && op.query !== document) return refusal('BAD_REQUEST', 'The document sent is not the one its id names.');
      op.query = document;
      delete op.extensions!.persistedQuery;
      return null;
    }
    if (mode === 'only' && (typeof op.query !== 'string' || !isKnownText(op.query))) {
      return refusal('PERSISTED_DOCUMENT_REQUIRED', 'This server runs only its persisted documents: send one of them (by id, or its exact text).');
    }
    return null;
  };
  return {
    mode,
    resolve,
    resolveBody(body) {
      for (const operation of Array.isArray(body) ? body : [body]) {
        const refused = resolve(operation);
        if (refused) return refused;
      }
      return null;
    },
  };
}
