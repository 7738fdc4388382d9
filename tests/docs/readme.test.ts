import fs from 'node:fs';
import { buildASTSchema, Kind, parse, specifiedRules, validate } from 'graphql';
import { describe, expect, it } from 'vitest';
import { createCostModel } from '../../src/server/cost/operation-cost.js';
import { REQUEST_LIMITS } from '../../src/server/limits.js';
import { loadSchemaDocument } from '../../src/schema-files.js';

/**
 * Every GraphQL example in the README is valid against the schema's SDL files (the docs cannot drift from the API).
 * tests/docs/readme-examples.test.ts runs them on the demo data.
 */
const schema = buildASTSchema(loadSchemaDocument());
const readme = fs.readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const blocks = [...readme.matchAll(/```graphql\n([\s\S]*?)```/g)].map((m) => m[1]!);

describe('README', () => {
  it('has GraphQL examples', () => expect(blocks.length).toBeGreaterThanOrEqual(3));
  it.each(blocks.map((text, i) => [i, text] as const))('example block %i is valid against the schema', (_i, text) => {
    const document = parse(text);
    // All of graphql-js's rules: a block of several operations names each (a reader picks one by name).
    const errors = validate(schema, document, specifiedRules);
    expect(errors.map((e) => e.message)).toEqual([]);
    // …and each operation is one the server runs: within the depth and cost limits, with its variables omitted.
    const model = createCostModel(schema);
    for (const operation of document.definitions) {
      if (operation.kind !== Kind.OPERATION_DEFINITION) continue;
      const { depth, cost } = model.analyze(document, operation, {}, Number.MAX_SAFE_INTEGER);
      expect(depth).toBeLessThanOrEqual(REQUEST_LIMITS.maxDepth);
      expect(cost, operation.name?.value).toBeLessThanOrEqual(REQUEST_LIMITS.maxCost);
    }
  });
});
