import DataLoader from 'dataloader';

/**
 * A DataLoader for "one page of children per parent" fields (Graph.executions, GraphExecution.nodeExecutions,
 * …). Keys that share the same field arguments are fetched together in one statement, with the per-parent limit
 * applied in SQL; keys with different arguments go to separate statements.
 */
export function childPageLoader<Parent, Args, Row>(options: {
  parentKey: (parent: Parent) => string;
  argsKey: (args: Args) => string;
  /** Returns each parent's rows (already limited and ordered), keyed by parentKey. */
  fetch: (parents: Parent[], args: Args) => Promise<Map<string, Row[]>>;
  /**
   * false: batch the keys of one tick but remember no answer, so a later load reads again (lists that a mutation
   * of the same operation may change). Default true.
   */
  cache?: boolean;
}) {
  const keyOf = (key: { parent: Parent; args: Args }) => `${options.argsKey(key.args)}|${options.parentKey(key.parent)}`;
  return new DataLoader<{ parent: Parent; args: Args }, Row[], string>(
    async (keys) => {
      const groups = new Map<string, { args: Args; parents: Map<string, Parent> }>();
      for (const { parent, args } of keys) {
        const argsKey = options.argsKey(args);
        let group = groups.get(argsKey);
        if (!group) groups.set(argsKey, (group = { args, parents: new Map() }));
        group.parents.set(options.parentKey(parent), parent);
      }
      const results = new Map<string, Row[]>();
      await Promise.all(
        [...groups].map(async ([argsKey, group]) => {
          const rows = await options.fetch([...group.parents.values()], group.args);
          for (const parentKey of group.parents.keys()) results.set(`${argsKey}|${parentKey}`, rows.get(parentKey) ?? []);
        }),
      );
      return keys.map((key) => results.get(keyOf(key)) ?? []);
    },
    { cacheKeyFn: keyOf, cache: options.cache ?? true },
  );
}

/** A DataLoader for per-parent counts (a connection's totalCount), one grouped statement per argument set. */
export function childCountLoader<Parent, Args>(options: {
  parentKey: (parent: Parent) => string;
  argsKey: (args: Args) => string;
  fetch: (parents: Parent[], args: Args) => Promise<Map<string, number>>;
  cache?: boolean;
}) {
  const pages = childPageLoader<Parent, Args, number>({
    parentKey: options.parentKey,
    argsKey: options.argsKey,
    cache: options.cache,
    fetch: async (parents, args) => {
      const counts = await options.fetch(parents, args);
      return new Map([...counts].map(([key, count]) => [key, [count]]));
    },
  });
  return { load: async (key: { parent: Parent; args: Args }) => (await pages.load(key))[0] ?? 0 };
}
