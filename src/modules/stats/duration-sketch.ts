/**
 * Durations in the rollups: log-linear bins of ratio g = (1 + a) / (1 - a), a = 2 % (the SQL function
 * stats_duration_bin). Bin 0 holds durations under 1 ms (estimated 0); bin i >= 1 holds (g^(i-2), g^(i-1)], estimated
 * 2 g^(i-1) / (g + 1), within a of every value in it (DDSketch's construction). Percentiles follow percentile_cont
 * (linear interpolation between the two closest ranks) over the estimates, so they stay within a of the exact answer.
 */
export const DURATION_RELATIVE_ERROR = 0.02;
const GAMMA = (1 + DURATION_RELATIVE_ERROR) / (1 - DURATION_RELATIVE_ERROR);

export function binEstimate(bin: number): number {
  return bin <= 0 ? 0 : (2 * GAMMA ** (bin - 1)) / (GAMMA + 1);
}

/** Counts per bin (signed additions are fine: the rollups are read as sums and differences of spans). */
export class DurationHistogram {
  private readonly counts = new Map<number, number>();

  add(bin: number, count: number): void {
    this.counts.set(bin, (this.counts.get(bin) ?? 0) + count);
  }

  /** Adds `sign` × a rollup row's bins, given as comma-separated counts of bins `from`, `from + 1`, … */
  addBinsText(from: number, bins: string, sign: number): void {
    let bin = from;
    let start = 0;
    for (let i = 0; i <= bins.length; i++) {
      if (i < bins.length && bins.charCodeAt(i) !== 44) continue;
      if (i > start + 1 || bins.charCodeAt(start) !== 48) this.add(bin, sign * Number(bins.slice(start, i)));
      bin++;
      start = i + 1;
    }
  }

  /** Adds `sign` × (bin, runs) pairs given as comma-separated text, `bin,runs,bin,runs,…` (graph_quarter_rollups.bins). */
  addPairsText(pairs: string, sign: number): void {
    // Parsed in place (no split): a graph's year is hundreds of thousands of pairs.
    let bin = -1;
    let value = 0;
    let negative = false;
    for (let i = 0; i <= pairs.length; i++) {
      const c = i < pairs.length ? pairs.charCodeAt(i) : 44;
      if (c === 45) negative = true;
      else if (c !== 44) value = value * 10 + (c - 48);
      else {
        const n = negative ? -value : value;
        if (bin < 0) bin = n;
        else {
          this.add(bin, sign * n);
          bin = -1;
        }
        value = 0;
        negative = false;
      }
    }
  }

  merge(other: DurationHistogram): void {
    for (const [bin, n] of other.counts) this.add(bin, n);
  }

  get count(): number {
    let n = 0;
    for (const c of this.counts.values()) n += c;
    return n;
  }

  private sorted(): Array<[number, number]> {
    return [...this.counts].filter(([, c]) => c > 0).sort((x, y) => x[0] - y[0]);
  }

  /** percentile_cont(p) over the bins' estimates; null when empty. */
  percentile(p: number): number | null {
    return this.percentiles([p])[0]!;
  }

  percentiles(ps: readonly number[]): Array<number | null> {
    const bins = this.sorted();
    const n = bins.reduce((sum, [, c]) => sum + c, 0);
    if (n === 0) return ps.map(() => null);
    const valueAt = (rank: number) => {
      let seen = 0;
      for (const [bin, c] of bins) {
        seen += c;
        if (rank < seen) return binEstimate(bin);
      }
      return binEstimate(bins[bins.length - 1]![0]);
    };
    return ps.map((p) => {
      const rank = p * (n - 1);
      const k = Math.floor(rank);
      const low = valueAt(k);
      return rank === k ? low : low + (rank - k) * (valueAt(k + 1) - low);
    });
  }

  /** The largest duration's estimate; null when empty. */
  max(): number | null {
    const bins = this.sorted();
    return bins.length ? binEstimate(bins[bins.length - 1]![0]) : null;
  }
}
