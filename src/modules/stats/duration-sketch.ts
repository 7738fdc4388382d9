/**
 * Durations in the rollups: log-linear bins of ratio g = (1 + a) / (1 - a), a = 2 % (the SQL function
 * stats_duration_bin). Bin 0 holds durations under 1 ms (estimated 0); bin i >= 1 holds (g^(i-2), g^(i-1)], estimated
 * 2 g^(i-1) / (g + 1), within a of every value in it (DDSketch's construction). Percentiles follow percentile_cont
 * (linear interpolation between the two closest ranks) over the estimates, so they stay within a of the exact answer.
 */
export const DURATION_RELATIVE_ERROR = 0.02;
const GAMMA = (1 + DURATION_RELATIVE_ERROR) / (1 - DURATION_RELATIVE_ERROR);
/** The bin of the longest duration two timestamps can be apart (~9.5e15 ms): 921. Higher bins are still counted. */
const HIGHEST_BIN = 921;

export function binEstimate(bin: number): number {
  return bin <= 0 ? 0 : (2 * GAMMA ** (bin - 1)) / (GAMMA + 1);
}

/**
 * Counts per bin (signed additions are fine: the rollups are read as sums and differences of spans). Dense: bins are
 * small integers (a week is bin ~520, the longest duration HIGHEST_BIN) and one interval's durations span a few
 * hundred at most, so an array over the bins seen makes adding, merging and percentiles plain index arithmetic. Walks
 * cover only the bins added since the last `clear`, so one histogram can be reused for interval after interval: a year
 * of hourly buckets is thousands of intervals, and a histogram each was most of such an answer's allocations.
 */
export class DurationHistogram {
  /** counts[i] is bin `low + i`'s count. */
  private counts = new Float64Array(0);
  private low = 0;
  /** The lowest and highest bin added since the last clear (first > last: none). */
  private first = Number.POSITIVE_INFINITY;
  private last = Number.NEGATIVE_INFINITY;

  add(bin: number, count: number): void {
    if (bin < this.low || bin >= this.low + this.counts.length) this.makeRoom(bin);
    this.counts[bin - this.low]! += count;
    if (bin < this.first) this.first = bin;
    if (bin > this.last) this.last = bin;
  }

  /**
   * Makes `bin` addressable: the array reaches up to the highest bin a duration can have and, below, to a margin under
   * the lowest bin seen, so it grows only when a lower bin comes (rows bring their bins in ascending order).
   */
  private makeRoom(bin: number): void {
    const empty = this.first > this.last;
    const low = Math.max(0, (empty ? bin : Math.min(bin, this.first)) - 64);
    const counts = new Float64Array(Math.max(HIGHEST_BIN, bin, empty ? 0 : this.last) + 1 - low);
    if (!empty) counts.set(this.counts.subarray(this.first - this.low, this.last - this.low + 1), this.first - low);
    this.counts = counts;
    this.low = low;
  }

  /** Empties the histogram, keeping its storage for the next interval. */
  clear(): void {
    if (this.first <= this.last) this.counts.fill(0, this.first - this.low, this.last - this.low + 1);
    this.first = Number.POSITIVE_INFINITY;
    this.last = Number.NEGATIVE_INFINITY;
  }

  /** Adds `sign` × a rollup row's bins, given as comma-separated counts of bins `from`, `from + 1`, … */
  addBinsText(from: number, bins: string, sign: number): void {
    this.addText(bins, 0, bins.length, sign, from);
  }

  /**
   * Adds `sign` × (bin, runs) pairs given as comma-separated text, `bin,runs,bin,runs,…` (graph_quarter_rollups.bins),
   * or such a text's part from `from` to `to`.
   */
  addPairsText(pairs: string, sign: number, from = 0, to = pairs.length): void {
    this.addText(pairs, from, to, sign, null);
  }

  /**
   * Comma-separated integers of `text` from `from` to `to`, parsed in place (no slices: a 90-day series brings a few
   * hundred thousand counts, a graph's year hundreds of thousands of pairs): counts of consecutive bins from
   * `firstBin`, or (bin, count) pairs when it is null.
   */
  private addText(text: string, from: number, to: number, sign: number, firstBin: number | null): void {
    if (from >= to) return;
    let bin = firstBin ?? -1;
    let value = 0;
    let negative = false;
    for (let i = from; i <= to; i++) {
      const c = i < to ? text.charCodeAt(i) : 44;
      if (c === 45) negative = true;
      else if (c !== 44) value = value * 10 + (c - 48);
      else {
        const n = negative ? -value : value;
        if (firstBin !== null) {
          if (n !== 0) this.add(bin, sign * n);
          bin++;
        } else if (bin < 0) bin = n;
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
    if (other.first > other.last) return;
    this.add(other.first, 0);
    this.add(other.last, 0);
    // Both ends fit now, so the rest is a plain loop over the other's bins.
    const { counts } = this;
    const from = other.first - other.low;
    const shift = other.low - this.low;
    for (let i = from, end = other.last - other.low; i <= end; i++) counts[i + shift]! += other.counts[i]!;
  }

  get count(): number {
    let n = 0;
    for (let bin = this.first; bin <= this.last; bin++) n += this.counts[bin - this.low]!;
    return n;
  }

  /** percentile_cont(p) over the bins' estimates (bins with a positive count); null when empty. */
  percentile(p: number): number | null {
    const n = this.positiveCount();
    return n === 0 ? null : this.percentileOf(p, n);
  }

  percentiles(ps: readonly number[]): Array<number | null> {
    const n = this.positiveCount();
    return ps.map((p) => (n === 0 ? null : this.percentileOf(p, n)));
  }

  private positiveCount(): number {
    const { counts, low } = this;
    let n = 0;
    for (let i = this.first - low, end = this.last - low; i <= end; i++) if (counts[i]! > 0) n += counts[i]!;
    return n;
  }

  /** percentile_cont(p) of `n` (> 0) positive counts: the estimates at ranks k and k + 1, interpolated, in one walk. */
  private percentileOf(p: number, n: number): number {
    const { counts, low } = this;
    const rank = p * (n - 1);
    const k = Math.floor(rank);
    let seen = 0;
    let lower = -1;
    let last = this.first;
    for (let bin = this.first; bin <= this.last; bin++) {
      const c = counts[bin - low]!;
      if (c <= 0) continue;
      seen += c;
      last = bin;
      if (lower < 0 && k < seen) {
        lower = bin;
        if (rank === k) return binEstimate(bin);
      }
      if (lower >= 0 && k + 1 < seen) return binEstimate(lower) + (rank - k) * (binEstimate(bin) - binEstimate(lower));
    }
    // k + 1 is past the last count (p = 1 with rounding): the last bin.
    const lowValue = binEstimate(lower < 0 ? last : lower);
    return lowValue + (rank - k) * (binEstimate(last) - lowValue);
  }

  /** The largest duration's estimate; null when empty. */
  max(): number | null {
    for (let bin = this.last; bin >= this.first; bin--) if (this.counts[bin - this.low]! > 0) return binEstimate(bin);
    return null;
  }
}
