/** The results chart: requests/s and p99 latency per question and server, rendered locally (vega-lite → SVG → PNG). */
import fs from 'node:fs';
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import * as vegaLite from 'vega-lite';

export type ChartRow = { question: string; server: string; rps: number; p99: number };

export async function renderChart(rows: ChartRow[], title: string, pngFile: string): Promise<void> {
  const color = { field: 'server', type: 'nominal', scale: { domain: ['agentgraph', 'postgraphile', 'floor'], range: ['#4c78a8', '#f58518', '#54a24b'] } };
  const panel = (field: 'rps' | 'p99', label: string) => ({
    width: 420,
    height: 260,
    mark: { type: 'bar', tooltip: true },
    encoding: {
      x: { field: 'question', type: 'nominal', title: null, axis: { labelAngle: 0 } },
      xOffset: { field: 'server', type: 'nominal', sort: ['agentgraph', 'postgraphile', 'floor'] },
      y: { field, type: 'quantitative', title: label, scale: { type: 'log', domainMin: 1, nice: true } },
      // Bars on a log scale need an explicit base (the default, 0, has no logarithm).
      y2: { datum: 1 },
      color,
    },
  });
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: title, fontSize: 14 },
    data: { values: rows },
    hconcat: [panel('rps', 'requests/s (log, higher is better)'), panel('p99', 'p99 latency ms (log, lower is better)')],
    config: { font: 'DejaVu Sans', background: 'white' },
  };
  const compiled = vegaLite.compile(spec as unknown as vegaLite.TopLevelSpec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  const png = new Resvg(svg, { font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' }, fitTo: { mode: 'zoom', value: 2 }, background: 'white' }).render().asPng();
  fs.writeFileSync(pngFile, png);
}
