import type { Block } from '../../generated/prisma/client.js';
import { modelTable } from '../../db/columns.js';

/** The Block model's columns (alias `b`); see db/columns.ts. */
export const BLOCK_TABLE = modelTable<Block>('blocks', 'b', {
  id: { column: 'id' },
  name: { column: 'name' },
  description: { column: 'description' },
  categories: { column: 'categories' },
  nodeType: { column: 'node_type', kind: 'text' },
  inputSchema: { column: 'input_schema', kind: 'json' },
  outputSchema: { column: 'output_schema', kind: 'json' },
  staticOutputs: { column: 'static_outputs' },
  costPerRun: { column: 'cost_per_run' },
  disabled: { column: 'disabled' },
  source: { column: 'source' },
  createdAt: { column: 'created_at', kind: 'time' },
  updatedAt: { column: 'updated_at', kind: 'time' },
});
