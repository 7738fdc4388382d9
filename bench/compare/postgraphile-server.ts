/**
 * PostGraphile v5 (amber preset + connection-filter plugin) over the agentgraph tables, for the side-by-side
 * benchmark. Run on Node 22+: `node --import tsx bench/compare/postgraphile-server.ts` with DATABASE_URL, PORT.
 *
 * No auth (the comparison leaves PostGraphile's RLS/JWT machinery off); GraphiQL, watch mode and explain are off.
 * The `cmp` schema holds the one custom mutation (`executeGraph`, see SETUP_SQL in questions.ts): the idiomatic
 * PostGraphile way to write a run and its node executions in one transaction.
 */
import http from 'node:http';
import { postgraphile } from 'postgraphile';
import { makePgService } from 'postgraphile/adaptors/pg';
import { grafserv } from 'postgraphile/grafserv/node';
import { PostGraphileAmberPreset } from 'postgraphile/presets/amber';
import { PostGraphileConnectionFilterPreset } from 'postgraphile-plugin-connection-filter';

const port = Number(process.env.PORT ?? 5100);
const connectionString = process.env.DATABASE_URL;
if (!connectionString) throw new Error('DATABASE_URL is required');
const poolMax = Number(process.env.DB_POOL_MAX ?? 10);

/** The `nodes` table would be a `Node` type, which clashes with the Relay `Node` interface: call it GraphNode. */
const RenameNodesTablePlugin: GraphileConfig.Plugin = {
  name: 'RenameNodesTablePlugin',
  version: '0.0.0',
  inflection: {
    replace: {
      _codecName(previous, _options, codec) {
        return codec.name === 'nodes' ? 'graph_nodes' : previous!(codec);
      },
    },
  },
};

const preset: GraphileConfig.Preset = {
  extends: [PostGraphileAmberPreset, PostGraphileConnectionFilterPreset],
  plugins: [RenameNodesTablePlugin],
  // Amber only orders/filters by indexed columns: off, so the same orders/filters as agentgraph's are available.
  disablePlugins: ['PgIndexBehaviorsPlugin'],
  pgServices: [makePgService({ connectionString, schemas: ['public', 'cmp'], poolConfig: { max: poolMax } })],
  grafserv: { graphiql: false, watch: false, maxRequestLength: 1_000_000 },
  grafast: { explain: false },
};

const pgl = postgraphile(preset);
const serv = pgl.createServ(grafserv);
const server = http.createServer();
serv.addTo(server).catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
// Build the schema before accepting requests, so the harness's readiness probe measures a warm server.
await pgl.getSchemaResult();
server.listen(port, '127.0.0.1', () => console.log(`postgraphile listening on http://127.0.0.1:${port}/graphql`));

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    server.close();
    void Promise.resolve(pgl.release()).finally(() => process.exit(0));
  });
}
