/** Self time per function and per package of a V8 `.cpuprofile` (as written by `node --cpu-prof`). */
import fs from 'node:fs';

type ProfileNode = { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number; children?: number[] };
type CpuProfile = { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number };

export type SelfTime = { name: string; where: string; ms: number; share: number };
export type ProfileSummary = { totalMs: number; idleShare: number; functions: SelfTime[]; packages: Array<{ name: string; ms: number; share: number }> };

/** `node_modules/@prisma/client/…` → `@prisma/client`; node internals → `node:internal`; project files → `agentgraph`. */
function packageOf(url: string): string {
  if (!url) return '(native/v8)';
  if (url.startsWith('node:')) return 'node: (core)';
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return m[1]!;
  if (url.includes('/dist/') || url.includes('/src/')) return 'agentgraph (own code)';
  return url.replace(/^file:\/\//, '');
}

/**
 * Samples before the first one inside `firstRequestFunction` (start-up: module loading and compilation) are left
 * out, so the summary describes the server under load.
 */
export function summarizeProfile(file: string, top = 15, firstRequestFunction = 'parserOnHeadersComplete'): ProfileSummary {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const inRequest = (id: number) => {
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) if (byId.get(cur)!.callFrame.functionName === firstRequestFunction) return true;
    return false;
  };
  const firstSample = Math.max(0, profile.samples.findIndex(inRequest));
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    if (i >= firstSample) selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  let total = 0;
  let idle = 0;
  const fns = new Map<string, { name: string; where: string; us: number }>();
  const pkgs = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const node = byId.get(id)!;
    const { functionName, url, lineNumber } = node.callFrame;
    total += us;
    if (functionName === '(idle)') {
      idle += us;
      continue;
    }
    const short = url.replace(/^file:\/\//, '').replace(/^.*node_modules\//, '').replace(/^.*\/main\//, '');
    const where = url ? `${short}:${lineNumber + 1}` : '';
    const key = `${functionName}|${where}`;
    const entry = fns.get(key) ?? { name: functionName || '(anonymous)', where, us: 0 };
    entry.us += us;
    fns.set(key, entry);
    const pkg = functionName.startsWith('(') ? functionName : packageOf(url);
    pkgs.set(pkg, (pkgs.get(pkg) ?? 0) + us);
  }
  const busy = total - idle || 1;
  return {
    totalMs: total / 1000,
    idleShare: idle / (total || 1),
    functions: [...fns.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, top)
      .map((f) => ({ name: f.name, where: f.where, ms: f.us / 1000, share: f.us / busy })),
    packages: [...pkgs]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 12)
      .map(([name, us]) => ({ name, ms: us / 1000, share: us / busy })),
  };
}
