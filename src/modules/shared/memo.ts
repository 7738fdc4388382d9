/**
 * `compute` memoized on its argument's identity, weakly held. For values derived from objects that are kept and
 * handed out again: a document's field nodes and the sets of fields worked out from them (the same objects on every
 * request of that document), a page object given to every parent of a list, or a schema.
 *
 * Arguments after the key reach `compute` on the key's first call only: the key must determine them (a field's
 * nodes determine its fragments and its type).
 */
export function memoizeByObject<K extends object, V, A extends unknown[] = []>(compute: (key: K, ...rest: A) => V): (key: K, ...rest: A) => V {
  const memo = new WeakMap<K, V>();
  return (key, ...rest) => {
    if (memo.has(key)) return memo.get(key) as V;
    const value = compute(key, ...rest);
    memo.set(key, value);
    return value;
  };
}
