/** Mutations answer ids; the payload's fields load the rows through the request's loaders. */
export type GraphPayloadRef = { graphId: string; version: number };
