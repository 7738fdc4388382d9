/** What the playground opens with: the queries a dashboard runs, ready to try against the demo data. */
export const PLAYGROUND_DEFAULT_QUERY = `# agentgraph playground. Every request needs an API key: see the Headers tab below.
# Pick an operation with the ▶ button's menu.

query Dashboard {
  viewer { email permissions }
  graphs(first: 20) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes {
      id version name isActive
      nodes { blockId nodeType label }
      executions(first: 5) {
        nodes { id status createdAt durationMs cost }
      }
    }
  }
}

query RecentFailures($after: String) {
  graphExecutions(first: 20, after: $after, filter: { statuses: [FAILED, TERMINATED] }) {
    pageInfo { hasNextPage endCursor }
    nodes {
      id status errorMessage createdAt durationMs
      graph { name version }
      nodeExecutions(first: 50, filter: { statuses: [FAILED] }) {
        nodes { node { blockId label } errorMessage durationMs }
      }
    }
  }
}

query Sessions {
  sessions(first: 10) {
    nodes { id appName agentId status eventCount updatedAt events(last: 5) { nodes { sequence author content } } }
  }
}

# Live (over a WebSocket): runs as they are created or change status, until you stop it.
subscription LiveRuns {
  graphExecutionUpdated {
    kind status at
    graphExecution { id status updatedAt graph { name } }
  }
}
`;
