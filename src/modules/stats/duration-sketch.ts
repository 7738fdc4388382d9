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

/**
 * Counts per bin (signed additions are fine: the rollups are read as sums and differences of spans). Dense: bins are
 * small integers (a week is bin ~520) and one interval's durations span a few hundred at most, so an array from the
 * lowest bin seen to the highest makes adding, merging and percentiles plain index arithmetic — a year of hourly
 * buckets is thousands of histograms, and a Map per bucket with its sorts was most of such an answer's time.
 */
export class DurationHistogram {
  /** counts[i] is bin `low + i`'s count. */
  private counts: number[] = [];
  private low = 0;

  add(bin: number, count: number): void {
    const { counts } = this;
    if (counts.length === 0) {
      this.low = bin;
      counts.push(count);
      return;
    }
    const i = bin - this.low;
    if (i < 0) {
      // Room below with some to spare (bins arrive in no particular order), not below bin 0.
      const room = -i + Math.min(16, Math.max(0, bin));
      this.counts = new Array<number>(room).fill(0).concat(counts);
      this.low -= room;
      this.counts[bin - this.low]! += count;
      return;
    }
    while (counts.length <= i) counts.push(0);
    counts[i]! += count;
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
    const { counts, low } = other;
    for (let i = 0; i < counts.length; i++) if (counts[i] !== 0) this.add(low + i, counts[i]!);
  }

  get count(): number {
    let n = 0;
    for (const c of this.counts) n += c;
    return n;
  }

  /** percentile_cont(p) over the bins' estimates (bins with a positive count); null when empty. */
  percentile(p: number): number | null {
    return this.percentiles([p])[0]!;
  }

  percentiles(ps: readonly number[]): Array<number | null> {
    const { counts, low } = this;
    let n = 0;
    for (const c of counts) if (c > 0) n += c;
    if (n === 0) return ps.map(() => null);
    const valueAt = (rank: number) => {
      let seen = 0;
      let last = 0;
      for (let i = 0; i < counts.length; i++) {
        const c = counts[i]!;
        if (c <= 0) continue;
        seen += c;
        last = i;
        if (rank < seen) return binEstimate(low + i);
      }
      return binEstimate(low + last);
    };
    return ps.map((p) => {
      const rank = p * (n - 1);
      const k = Math.floor(rank);
      const lowValue = valueAt(k);
      return rank === k ? lowValue : lowValue + (rank - k) * (valueAt(k + 1) - lowValue);
    });
  }

  /** The largest duration's estimate; null when empty. */
  max(): number | null {
    for (let i = this.counts.length - 1; i >= 0; i--) if (this.counts[i]! > 0) return binEstimate(this.low + i);
    return null;
  }
}
