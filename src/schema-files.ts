import fs from 'node:fs';
import path from 'node:path';
import { makeExecutableSchema } from '@graphql-tools/schema';
import { Kind, Source, isScalarType, parse, type DocumentNode, type GraphQLSchema } from 'graphql';
import { projectRoot, runtimeAsset } from './config.js';
import type { Resolvers } from './generated/graphql.js';

/**
 * The domain modules with a part of the API, in the order their root fields appear in `Query` and `Mutation` (the
 * order `src/modules/resolvers.ts` merges their resolvers in). codegen.yml and scripts/generate.mjs read the same
 * files through a glob; tests/docs/schema-descriptions.test.ts checks that this list names every one of them.
 */
const SCHEMA_MODULES = ['users', 'graphs', 'blocks', 'executions', 'auth', 'sessions', 'stats'] as const;

/**
 * The SDL files of the public API, absolute paths: the top-level schema.graphql (root types, scalars and what the
 * modules share), then each module's `src/modules/<module>/schema.graphql` (its types and, through
 * `extend type Query`/`extend type Mutation`, its root fields).
 */
export const SCHEMA_FILES: readonly string[] = [
  runtimeAsset('schema.graphql'),
  ...SCHEMA_MODULES.map((module) => runtimeAsset(`src/modules/${module}/schema.graphql`)),
];

/** The SDL text of each schema file, in `SCHEMA_FILES` order. */
export function loadTypeDefs(): string[] {
  return SCHEMA_FILES.map((file) => fs.readFileSync(file, 'utf8'));
}

/**
 * The schema files as one document, each parsed under its own name (a syntax error says which file it is in);
 * definitions in `SCHEMA_FILES` order, so extensions add their fields in that order.
 */
export function loadSchemaDocument(): DocumentNode {
  const documents = loadTypeDefs().map((sdl, i) => parse(new Source(sdl, path.relative(projectRoot, SCHEMA_FILES[i]!))));
  return { kind: Kind.DOCUMENT, definitions: documents.flatMap((document) => document.definitions) };
}

/**
 * The executable schema: the SDL files with their resolvers. Descriptions are the SDL's, scalars' included:
 * graphql-scalars' implementations bring descriptions of their own, which would otherwise replace them.
 */
export function buildExecutableSchema(resolvers: Resolvers): GraphQLSchema {
  const schema = makeExecutableSchema({ typeDefs: loadSchemaDocument(), resolvers });
  for (const type of Object.values(schema.getTypeMap())) {
    const described = type.astNode?.description?.value;
    if (isScalarType(type) && described) type.description = described;
  }
  return schema;
}
