import { defineConfig } from 'vitest/config';

/** The fault tests (`npm run test:faults`): slow, stop databases and kill processes, so not part of `npm test`. */
export default defineConfig({
  resolve: { alias: [{ find: /^graphql$/, replacement: 'graphql/index.js' }] },
  test: {
    include: ['tests/faults/**/*.fault.ts'],
    testTimeout: 240_000,
    hookTimeout: 180_000,
    // One at a time: each runs the real server under load on 2 cores.
    fileParallelism: false,
    reporters: ['default'],
  },
});
