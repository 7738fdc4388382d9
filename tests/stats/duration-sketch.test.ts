import { describe, expect, it } from 'vitest';
import { binEstimate, DurationHistogram } from '../../src/modules/stats/duration-sketch.js';
import { SeriesCollector } from '../../src/modules/stats/series-figures.js';

/** The plainest histogram: a map of bins, percentile_cont over the estimates of positive counts. */
class ReferenceHistogram {
  readonly bins = new Map<number, number>();
  add(bin: number, n: number) {
    this.bins.set(bin, (this.bins.get(bin) ?? 0) + n);
  }
  get count() {
    let n = 0;
    for (const c of this.bins.values()) n += c;
    return n;
  }
  percentile(p: number): number | null {
    const values = [...this.bins].filter(([, c]) => c > 0).sort((a, b) => a[0] - b[0]);
    const n = values.reduce((sum, [, c]) => sum + c, 0);
    if (n === 0) return null;
    const at = (rank: number) => {
      let seen = 0;
      for (const [bin, c] of values) if (rank < (seen += c)) return binEstimate(bin);
      return binEstimate(values[values.length - 1]![0]);
    };
    const rank = p * (n - 1);
    const k = Math.floor(rank);
    return rank === k ? at(k) : at(k) + (rank - k) * (at(k + 1) - at(k));
  }
  max(): number | null {
    const bins = [...this.bins].filter(([, c]) => c > 0).map(([b]) => b);
    return bins.length ? binEstimate(Math.max(...bins)) : null;
  }
}

/** A small deterministic generator (mulberry32). */
function random(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PS = [0, 0.5, 0.9, 0.95, 0.99, 1];

describe('DurationHistogram', () => {
  it('answers as a plain map of bins, for signed additions in any order, reused across clears', () => {
    const next = random(17);
    const reused = new DurationHistogram();
    for (let round = 0; round < 400; round++) {
      const reference = new ReferenceHistogram();
      const fresh = new DurationHistogram();
      // Bins anywhere from 0 to the largest a bigint duration can have, clustered as real durations are.
      const centre = Math.floor(next() * 1_090);
      for (let i = 0, n = 1 + Math.floor(next() * 60); i < n; i++) {
        const bin = Math.max(0, Math.min(1_090, centre + Math.round((next() - 0.5) * 300)));
        const count = Math.floor(next() * 9) - 2;
        reference.add(bin, count);
        fresh.add(bin, count);
        reused.add(bin, count);
      }
      for (const h of [fresh, reused]) {
        expect(h.count).toBe(reference.count);
        expect(h.percentiles(PS)).toEqual(PS.map((p) => reference.percentile(p)));
        expect(h.max()).toBe(reference.max());
      }
      reused.clear();
      expect(reused.count).toBe(0);
      expect(reused.percentile(0.5)).toBeNull();
    }
  });

  it('merges what was added since the last clear only', () => {
    const a = new DurationHistogram();
    a.addPairsText('300,2,310,1', 1);
    a.clear();
    a.addPairsText('5,1,900,3', 1);
    const b = new DurationHistogram();
    b.addBinsText(4, '2,0,1', -1);
    b.addBinsText(10, '-1,0,12', 1);
    b.merge(a);
    const reference = new ReferenceHistogram();
    for (const [bin, n] of [[5, 1], [900, 3], [4, -2], [6, -1], [10, -1], [12, 12]] as const) reference.add(bin, n);
    expect(b.count).toBe(reference.count);
    expect(b.percentiles(PS)).toEqual(PS.map((p) => reference.percentile(p)));
  });
});

describe('SeriesCollector', () => {
  it('keeps each interval’s p95 and sums every row into the whole range', () => {
    const collector = new SeriesCollector();
    collector.row(0, 'COMPLETED', 2, 10, 300).addPairsText('100,1,200,1', 1);
    collector.row(0, 'FAILED', 1, 0, 50).add(50, 1);
    collector.row(3, 'COMPLETED', 1, 5, 40).add(60, 1);
    collector.row(3, 'COMPLETED', -1, -5, -40).add(60, -1);
    const { points, whole } = collector.finish();
    const hour0 = new ReferenceHistogram();
    for (const bin of [100, 200, 50]) hour0.add(bin, 1);
    expect(points.get(0)).toEqual({ byStatus: new Map([['COMPLETED', { runs: 2, cost: 10 }], ['FAILED', { runs: 1, cost: 0 }]]), p95DurationMs: hour0.percentile(0.95) });
    expect(points.get(3)).toEqual({ byStatus: new Map([['COMPLETED', { runs: 0, cost: 0 }]]), p95DurationMs: null });
    expect(whole.durationSumMs).toBe(350);
    expect(whole.durations.percentile(0.5)).toBe(hour0.percentile(0.5));
    expect(whole.byStatus.get('COMPLETED')).toEqual({ runs: 2, cost: 10 });
  });

  it('refuses rows that are not grouped by interval', () => {
    const collector = new SeriesCollector();
    collector.row(1, 'COMPLETED', 1, 0, 0);
    collector.row(2, 'COMPLETED', 1, 0, 0);
    expect(() => collector.row(1, 'FAILED', 1, 0, 0)).toThrow(/not grouped by interval/);
  });
});
