/**
 * `compute` memoized on its argument's identity, weakly held. For values derived from objects that are kept and
 * handed out again: a document's field nodes and the sets of fields worked out from them (the same objects on every
 * request of that document), or a page object given to every parent of a list.
 */
export function memoizeByObject<K extends object, V>(compute: (key: K) => V): (key: K) => V {
  const memo = new WeakMap<K, V>();
  return (key) => {
    if (memo.has(key)) return memo.get(key) as V;
    const value = compute(key);
    memo.set(key, value);
    return value;
  };
}
