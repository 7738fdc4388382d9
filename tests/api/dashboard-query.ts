/**
 * The dashboard query of the issue: graphs, each with nodes, links and its 10 latest runs with their node runs. 10
 * graphs, not 50: at the schema maxima (500 nodes, 2,000 links a graph) 50 are estimated over the cost limit.
 */
export const DASHBOARD_QUERY = /* GraphQL */ `
  query Dashboard {
    graphs(first: 10) {
      pageInfo { hasNextPage endCursor }
      nodes {
        id version name owner { email }
        nodes { id blockId nodeType inputLinks { id } }
        links { id sourceName sinkName source { blockId } sink { blockId } }
        executions(first: 10) {
          nodes {
            id status createdAt durationMs cost
            nodeExecutions(first: 50) { nodes { id status durationMs node { blockId } } }
          }
        }
      }
    }
  }
`;
