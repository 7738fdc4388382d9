import type { Graph, Link, Node } from '../../generated/prisma/client.js';
import { modelTable } from '../../db/columns.js';

/** The Graph model's columns (alias `g`); see db/columns.ts. */
export const GRAPH_TABLE = modelTable<Graph>('graphs', 'g', {
  id: { column: 'id' },
  version: { column: 'version' },
  name: { column: 'name' },
  description: { column: 'description' },
  isActive: { column: 'is_active' },
  userId: { column: 'user_id' },
  blocksChecked: { column: 'blocks_checked' },
  isTemplate: { column: 'is_template' },
  runnableRevision: { column: 'runnable_revision' },
  createdAt: { column: 'created_at', kind: 'time' },
  updatedAt: { column: 'updated_at', kind: 'time' },
});

/** The Node model's columns (alias `n`). */
export const NODE_TABLE = modelTable<Node>('nodes', 'n', {
  id: { column: 'id' },
  graphId: { column: 'graph_id' },
  graphVersion: { column: 'graph_version' },
  blockId: { column: 'block_id' },
  label: { column: 'label' },
  nodeType: { column: 'node_type', kind: 'text' },
  inputDefault: { column: 'input_default', kind: 'json' },
  metadata: { column: 'metadata', kind: 'json' },
});

/** The Link model's columns (alias `l`). */
export const LINK_TABLE = modelTable<Link>('links', 'l', {
  id: { column: 'id' },
  graphId: { column: 'graph_id' },
  graphVersion: { column: 'graph_version' },
  sourceId: { column: 'source_id' },
  sinkId: { column: 'sink_id' },
  sourceName: { column: 'source_name' },
  sinkName: { column: 'sink_name' },
  isStatic: { column: 'is_static' },
});
