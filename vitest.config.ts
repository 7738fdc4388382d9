import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // graphql 16 has no "exports" map: Node (and so Apollo) loads its CommonJS build, Vite would pick the ESM
    // one. Two copies break `instanceof GraphQLError`; make the tests load the same copy as production.
    alias: [{ find: /^graphql$/, replacement: 'graphql/index.js' }],
  },
  test: {
    include: ['tests/**/*.test.ts'],
    globalSetup: ['tests/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // PGlite instances and PostgreSQL databases are per file; two cores do not gain from more workers.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
