import type { DriftWindowView } from '../model-drift/model-drift.service';
import type { PerformanceWindowView } from '../model-performance/model-performance.service';

export interface ReportInput {
  readonly model: string;
  readonly drift: readonly DriftWindowView[];
  readonly performance: readonly PerformanceWindowView[];
  readonly marks: ReadonlyArray<{ kind: string; version: number | null; at: string }>;
  readonly metric: string;
  readonly floor: number | null;
  readonly psiWarning: number;
  readonly psiCritical: number;
  readonly generatedAt: string;
}

interface Series {
  readonly name: string;
  readonly points: ReadonlyArray<{ t: number; y: number }>;
}

const COLORS = [
  '#1f77b4',
  '#ff7f0e',
  '#2ca02c',
  '#d62728',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#7f7f7f',
  '#bcbd22',
  '#17becf',
];
const W = 860;
const H = 280;
const PAD = { left: 56, right: 170, top: 16, bottom: 36 };

export const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/**
 * One chart as inline SVG: a polyline per series (data-series names it), dashed horizontal lines for thresholds,
 * vertical lines for version marks. No script and no external asset: the page renders offline.
 */
export function lineChart(
  id: string,
  series: readonly Series[],
  thresholds: ReadonlyArray<{ label: string; y: number }>,
  marks: ReadonlyArray<{ label: string; t: number }>,
  yLabel: string,
): string {
  const all = series.flatMap((s) => s.points);
  const ts = [...all.map((p) => p.t), ...marks.map((m) => m.t)];
  const ys = [...all.map((p) => p.y), ...thresholds.map((t) => t.y), 0];
  const t0 = ts.length ? Math.min(...ts) : 0;
  const t1 = ts.length ? Math.max(...ts) : 1;
  const y0 = Math.min(...ys);
  const y1 = Math.max(...ys) * 1.05 || 1;
  const x = (t: number): number => PAD.left + ((t - t0) / (t1 - t0 || 1)) * (W - PAD.left - PAD.right);
  const y = (v: number): number => H - PAD.bottom - ((v - y0) / (y1 - y0 || 1)) * (H - PAD.top - PAD.bottom);
  const parts: string[] = [
    `<svg id="${escapeHtml(id)}" xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img">`,
    `<rect x="${PAD.left}" y="${PAD.top}" width="${W - PAD.left - PAD.right}" height="${H - PAD.top - PAD.bottom}" fill="#fafafa" stroke="#ccc"/>`,
    `<text x="12" y="${H / 2}" transform="rotate(-90 12 ${H / 2})" font-size="11" text-anchor="middle">${escapeHtml(yLabel)}</text>`,
    `<text x="${PAD.left}" y="${H - 8}" font-size="10">${escapeHtml(new Date(t0).toISOString())}</text>`,
    `<text x="${W - PAD.right}" y="${H - 8}" font-size="10" text-anchor="end">${escapeHtml(new Date(t1).toISOString())}</text>`,
    `<text x="${PAD.left - 4}" y="${y(y1)}" font-size="10" text-anchor="end">${y1.toFixed(3)}</text>`,
    `<text x="${PAD.left - 4}" y="${y(y0)}" font-size="10" text-anchor="end">${y0.toFixed(3)}</text>`,
  ];
  for (const t of thresholds)
    parts.push(
      `<line class="threshold" data-threshold="${escapeHtml(t.label)}" x1="${PAD.left}" x2="${W - PAD.right}" y1="${y(t.y)}" y2="${y(t.y)}" stroke="#d62728" stroke-dasharray="4 3"/>`,
      `<text x="${W - PAD.right + 4}" y="${y(t.y) + 3}" font-size="10" fill="#d62728">${escapeHtml(t.label)}</text>`,
    );
  for (const m of marks)
    parts.push(
      `<line class="version-mark" data-mark="${escapeHtml(m.label)}" x1="${x(m.t)}" x2="${x(m.t)}" y1="${PAD.top}" y2="${H - PAD.bottom}" stroke="#555" stroke-dasharray="2 2"/>`,
      `<text x="${x(m.t) + 2}" y="${PAD.top + 10}" font-size="9" fill="#555">${escapeHtml(m.label)}</text>`,
    );
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length]!;
    const points = s.points.map((p) => `${x(p.t).toFixed(1)},${y(p.y).toFixed(1)}`).join(' ');
    parts.push(
      `<polyline class="series" data-series="${escapeHtml(s.name)}" data-points="${s.points.length}" fill="none" stroke="${color}" stroke-width="1.8" points="${points}"/>`,
      ...s.points.map((p) => `<circle cx="${x(p.t).toFixed(1)}" cy="${y(p.y).toFixed(1)}" r="2.2" fill="${color}"/>`),
      `<text x="${W - PAD.right + 4}" y="${PAD.top + 24 + i * 13}" font-size="10" fill="${color}">${escapeHtml(s.name)}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('\n');
}

/** The report page of a model: PSI per feature over time, the live metric against its floor, versions marked. */
export function renderReport(input: ReportInput): string {
  const byFeature = new Map<string, Array<{ t: number; y: number }>>();
  for (const w of input.drift)
    for (const f of w.features)
      if (f.psi !== null) {
        const name = `${f.feature === '$prediction' ? 'prediction' : f.feature} (v${w.version})`;
        byFeature.set(name, [...(byFeature.get(name) ?? []), { t: Date.parse(w.windowEnd), y: f.psi }]);
      }
  const perf = new Map<string, Array<{ t: number; y: number }>>();
  for (const w of input.performance) {
    const value = w.metrics[input.metric];
    if (value === null || value === undefined || w.labeled === 0) continue;
    const name = `${input.metric} v${w.version} ${w.arm}`;
    perf.set(name, [...(perf.get(name) ?? []), { t: Date.parse(w.windowEnd), y: value }]);
  }
  const marks = input.marks.map((m) => ({ label: `${m.kind} v${m.version ?? '?'}`, t: Date.parse(m.at) }));
  const driftChart = lineChart(
    'drift-chart',
    [...byFeature].map(([name, points]) => ({ name, points })),
    [
      { label: `PSI ${input.psiWarning}`, y: input.psiWarning },
      { label: `PSI ${input.psiCritical}`, y: input.psiCritical },
    ],
    marks,
    'PSI',
  );
  const perfChart = lineChart(
    'performance-chart',
    [...perf].map(([name, points]) => ({ name, points })),
    input.floor === null ? [] : [{ label: `floor ${input.floor}`, y: input.floor }],
    marks,
    input.metric,
  );
  const latest = input.drift[input.drift.length - 1];
  const rows = (latest?.features ?? [])
    .map(
      (f) =>
        `<tr class="${f.drifted ? 'drifted' : ''}"><td>${escapeHtml(f.feature)}</td><td>${f.kind}</td><td>${f.sampleSize}</td>` +
        [f.psi, f.jensenShannon, f.ks, f.ksPValue, f.wasserstein, f.chiSquared, f.chiSquaredPValue]
          .map((v) => `<td>${v === null ? '' : v.toFixed(4)}</td>`)
          .join('') +
        `<td>${f.drifted ? 'yes' : 'no'}</td></tr>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Monitor report: ${escapeHtml(input.model)}</title>
<style>body{font-family:system-ui,sans-serif;margin:24px;color:#222}table{border-collapse:collapse;font-size:12px}
td,th{border:1px solid #ddd;padding:3px 6px;text-align:right}tr.drifted td{background:#fde0e0}h2{margin-top:28px}</style>
</head><body>
<h1>Model <code>${escapeHtml(input.model)}</code></h1>
<p>Generated ${escapeHtml(input.generatedAt)}; ${input.drift.length} drift windows, ${input.performance.length} performance windows.</p>
<h2>Drift per feature (PSI) over time</h2>
${driftChart}
<h2>Live ${escapeHtml(input.metric)} against its floor</h2>
${perfChart}
<h2>Latest window${latest ? ` (v${latest.version}, ${escapeHtml(latest.windowStart)} to ${escapeHtml(latest.windowEnd)}, drifted share ${latest.driftedShare ?? 0})` : ''}</h2>
<table id="latest-window"><tr><th>feature</th><th>kind</th><th>n</th><th>PSI</th><th>JS</th><th>KS D</th><th>KS p</th><th>Wasserstein</th><th>chi2</th><th>chi2 p</th><th>drifted</th></tr>
${rows}
</table>
</body></html>`;
}
