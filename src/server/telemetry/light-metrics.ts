import type { Registry } from 'prom-client';

/**
 * A counter and a histogram with fixed label names, for the metrics every request updates. prom-client's own convert,
 * validate and hash a labels object on every update (a few microseconds each, and a request makes several: 3 % of
 * the server's CPU on the lightest benchmark question); these add to a number found by the label values. They are
 * registered in a prom-client registry, which formats them with the others (`get()` is its collector interface).
 */
type Entry<Value> = { labelValues: readonly string[]; value: Value };

abstract class LightMetric<Value> {
  protected readonly entries = new Map<string, Entry<Value>>();
  abstract readonly type: 'counter' | 'histogram';
  constructor(
    readonly name: string,
    readonly help: string,
    protected readonly labelNames: readonly string[],
    registry: Registry,
  ) {
    registry.registerMetric(this as unknown as Parameters<Registry['registerMetric']>[0]);
  }

  protected entry(labelValues: readonly string[], initial: () => Value): Entry<Value> {
    const key = labelValues.length === 1 ? labelValues[0]! : labelValues.join('\u0000');
    let entry = this.entries.get(key);
    if (!entry) this.entries.set(key, (entry = { labelValues: [...labelValues], value: initial() }));
    return entry;
  }

  protected labelsOf(entry: Entry<Value>): Record<string, string> {
    return Object.fromEntries(this.labelNames.map((name, i) => [name, entry.labelValues[i]!]));
  }

  /** What prom-client's registry reads to write the exposition text. */
  abstract get(): { name: string; help: string; type: string; aggregator: 'sum'; values: Array<{ value: number; labels: Record<string, string>; metricName?: string }> };
}

export class LightCounter extends LightMetric<number> {
  readonly type = 'counter';

  inc(...labelValues: string[]): void {
    this.entry(labelValues, () => 0).value += 1;
  }

  get() {
    const values = [...this.entries.values()].map((entry) => ({ value: entry.value, labels: this.labelsOf(entry) }));
    return { name: this.name, help: this.help, type: this.type, aggregator: 'sum' as const, values };
  }
}

type HistogramValue = { counts: Float64Array; sum: number; count: number };

export class LightHistogram extends LightMetric<HistogramValue> {
  readonly type = 'histogram';

  constructor(name: string, help: string, labelNames: readonly string[], registry: Registry, private readonly bounds: readonly number[]) {
    super(name, help, labelNames, registry);
  }

  observe(value: number, ...labelValues: string[]): void {
    const histogram = this.entry(labelValues, () => ({ counts: new Float64Array(this.bounds.length), sum: 0, count: 0 })).value;
    histogram.sum += value;
    histogram.count += 1;
    for (let i = 0; i < this.bounds.length; i++) {
      if (value <= this.bounds[i]!) {
        histogram.counts[i]! += 1;
        return;
      }
    }
  }

  get() {
    const values: Array<{ value: number; labels: Record<string, string>; metricName: string }> = [];
    for (const entry of this.entries.values()) {
      const labels = this.labelsOf(entry);
      const { counts, sum, count } = entry.value;
      let cumulative = 0;
      this.bounds.forEach((bound, i) => {
        cumulative += counts[i]!;
        values.push({ value: cumulative, labels: { ...labels, le: String(bound) }, metricName: `${this.name}_bucket` });
      });
      values.push({ value: count, labels: { ...labels, le: '+Inf' }, metricName: `${this.name}_bucket` });
      values.push({ value: sum, labels, metricName: `${this.name}_sum` });
      values.push({ value: count, labels, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: 'sum' as const, values };
  }
}
