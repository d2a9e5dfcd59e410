/**
 * Two small chart kinds drawn as plain SVG (no chart library): grouped bars
 * (optionally on a log scale, with a whisker for a second percentile) and
 * small-multiple timelines. Text is escaped; sizes are fixed so the README
 * renders them the same everywhere.
 */

export const COLOURS: Record<string, string> = { direct: '#7f8c8d', portkey: '#e67e22', switchboard: '#2463eb' };
const FALLBACK_COLOURS = ['#2463eb', '#e67e22', '#7f8c8d', '#16a34a', '#9333ea'];
const FONT = 'font-family="system-ui, -apple-system, Segoe UI, sans-serif"';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const colourOf = (series: string, i: number) => COLOURS[series] ?? FALLBACK_COLOURS[i % FALLBACK_COLOURS.length]!;

function formatValue(v: number): string {
  if (v >= 100) return String(Math.round(v));
  if (v >= 10) return v.toFixed(1).replace(/\.0$/, '');
  return v.toFixed(2).replace(/0$/, '').replace(/\.0$/, '');
}

function legend(series: string[], x: number, y: number): string {
  return series
    .map(
      (s, i) =>
        `<rect x="${x + i * 130}" y="${y - 9}" width="10" height="10" fill="${colourOf(s, i)}"/><text x="${x + i * 130 + 14}" y="${y}" font-size="11" ${FONT}>${esc(s)}</text>`,
    )
    .join('');
}

/** 1, 2 or 5 times a power of ten, at least `raw`: axis steps a reader can add up. */
function niceStep(raw: number): number {
  if (!(raw > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(raw));
  return ([1, 2, 5, 10].find((m) => m * power >= raw) ?? 10) * power;
}

export interface BarGroup {
  label: string;
  /** Value per series; null draws "n/a". */
  values: Record<string, number | null>;
  /** A second value per series drawn as a whisker (e.g. p99 over a p50 bar). */
  whiskers?: Record<string, number | null>;
}

export function groupedBarChart(o: { title: string; yLabel: string; series: string[]; groups: BarGroup[]; log?: boolean; note?: string }): string {
  const width = 640;
  const height = 320;
  const left = 64;
  const right = 16;
  const top = 44;
  const bottom = 58;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const all = o.groups.flatMap((g) => [...Object.values(g.values), ...Object.values(g.whiskers ?? {})]).filter((v): v is number => v !== null && v > 0);
  const max = Math.max(...all, 1);
  const min = o.log ? Math.max(Math.min(...all, max) / 2, 0.01) : 0;
  const lo = o.log ? Math.floor(Math.log10(min)) : 0;
  const step = niceStep(max / 4);
  const hi = o.log ? Math.ceil(Math.log10(max)) : Math.ceil((max * 1.08) / step) * step;
  const y = (v: number) => {
    const f = o.log ? (Math.log10(Math.max(v, 10 ** lo)) - lo) / (hi - lo || 1) : v / hi;
    return top + plotH - f * plotH;
  };
  const ticks = o.log ? Array.from({ length: hi - lo + 1 }, (_, i) => 10 ** (lo + i)) : Array.from({ length: Math.round(hi / step) + 1 }, (_, i) => i * step);
  const parts: string[] = [];
  parts.push(`<text x="${width / 2}" y="18" text-anchor="middle" font-size="14" font-weight="600" ${FONT}>${esc(o.title)}</text>`);
  parts.push(legend(o.series, left, 36));
  for (const t of ticks) {
    parts.push(`<line x1="${left}" x2="${width - right}" y1="${y(t)}" y2="${y(t)}" stroke="#e5e7eb"/>`);
    parts.push(`<text x="${left - 6}" y="${y(t) + 4}" text-anchor="end" font-size="10" fill="#555" ${FONT}>${formatValue(t)}</text>`);
  }
  parts.push(`<text transform="translate(14 ${top + plotH / 2}) rotate(-90)" text-anchor="middle" font-size="11" fill="#333" ${FONT}>${esc(o.yLabel)}</text>`);
  const groupW = plotW / Math.max(o.groups.length, 1);
  const barW = Math.min(36, (groupW * 0.8) / o.series.length);
  o.groups.forEach((g, gi) => {
    const x0 = left + gi * groupW + (groupW - barW * o.series.length) / 2;
    o.series.forEach((s, si) => {
      const v = g.values[s];
      const x = x0 + si * barW;
      if (v === null || v === undefined) {
        parts.push(`<text x="${x + barW / 2}" y="${top + plotH - 4}" text-anchor="middle" font-size="9" fill="#999" ${FONT}>n/a</text>`);
        return;
      }
      parts.push(
        `<rect x="${x + 1}" y="${y(v)}" width="${barW - 2}" height="${Math.max(0, top + plotH - y(v))}" fill="${colourOf(s, si)}"><title>${esc(`${s} ${g.label}: ${formatValue(v)}`)}</title></rect>`,
      );
      parts.push(`<text x="${x + barW / 2}" y="${y(v) - 3}" text-anchor="middle" font-size="9" ${FONT}>${formatValue(v)}</text>`);
      const w = g.whiskers?.[s];
      if (w !== null && w !== undefined && w > v) {
        parts.push(
          `<line x1="${x + barW / 2}" x2="${x + barW / 2}" y1="${y(v)}" y2="${y(w)}" stroke="#111" stroke-width="1"/><line x1="${x + barW / 2 - 4}" x2="${x + barW / 2 + 4}" y1="${y(w)}" y2="${y(w)}" stroke="#111"/>`,
        );
      }
    });
    parts.push(`<text x="${left + gi * groupW + groupW / 2}" y="${top + plotH + 16}" text-anchor="middle" font-size="11" ${FONT}>${esc(g.label)}</text>`);
  });
  parts.push(`<line x1="${left}" x2="${width - right}" y1="${top + plotH}" y2="${top + plotH}" stroke="#333"/>`);
  if (o.note) parts.push(`<text x="${left}" y="${height - 12}" font-size="10" fill="#555" ${FONT}>${esc(o.note)}</text>`);
  return svgDocument(width, height, parts);
}

export interface Timeline {
  title: string;
  /** Series name → one value per second. */
  series: Record<string, number[]>;
  /** Shaded span, in seconds from the start. */
  shaded?: { from: number; to: number };
}

export function timelineSmallMultiples(o: { title: string; yLabel: string; panels: Timeline[]; columns?: number; note?: string }): string {
  const columns = o.columns ?? 2;
  const panelW = 320;
  const panelH = 150;
  const rows = Math.ceil(o.panels.length / columns);
  const width = columns * panelW + 20;
  const top = 52;
  const height = top + rows * panelH + 30;
  const seriesNames = [...new Set(o.panels.flatMap((p) => Object.keys(p.series)))];
  const parts: string[] = [];
  parts.push(`<text x="${width / 2}" y="18" text-anchor="middle" font-size="14" font-weight="600" ${FONT}>${esc(o.title)}</text>`);
  parts.push(legend(seriesNames, 40, 38));
  o.panels.forEach((panel, pi) => {
    const ox = 10 + (pi % columns) * panelW;
    const oy = top + Math.floor(pi / columns) * panelH;
    const l = ox + 34;
    const r = ox + panelW - 12;
    const t = oy + 22;
    const b = oy + panelH - 22;
    const length = Math.max(...Object.values(panel.series).map((s) => s.length), 1);
    const max = Math.max(1, ...Object.values(panel.series).flat());
    const x = (second: number) => l + (second / length) * (r - l);
    const y = (v: number) => b - (v / max) * (b - t);
    parts.push(`<text x="${ox + panelW / 2}" y="${oy + 14}" text-anchor="middle" font-size="11" font-weight="600" ${FONT}>${esc(panel.title)}</text>`);
    if (panel.shaded)
      parts.push(
        `<rect x="${x(panel.shaded.from)}" y="${t}" width="${Math.max(0, x(panel.shaded.to) - x(panel.shaded.from))}" height="${b - t}" fill="#fde2e2"/>`,
      );
    parts.push(`<line x1="${l}" x2="${r}" y1="${b}" y2="${b}" stroke="#333"/><line x1="${l}" x2="${l}" y1="${t}" y2="${b}" stroke="#333"/>`);
    parts.push(
      `<text x="${l - 4}" y="${t + 4}" text-anchor="end" font-size="9" ${FONT}>${max}</text><text x="${l - 4}" y="${b + 3}" text-anchor="end" font-size="9" ${FONT}>0</text>`,
    );
    parts.push(`<text x="${r}" y="${b + 12}" text-anchor="end" font-size="9" fill="#555" ${FONT}>${length} s</text>`);
    seriesNames.forEach((name, si) => {
      const values = panel.series[name];
      if (!values || values.length === 0) return;
      // A step line: each second's count held across that second.
      const points = values.flatMap((v, s) => [`${x(s).toFixed(1)},${y(v).toFixed(1)}`, `${x(s + 1).toFixed(1)},${y(v).toFixed(1)}`]).join(' ');
      parts.push(`<polyline points="${points}" fill="none" stroke="${colourOf(name, si)}" stroke-width="1.6"/>`);
    });
  });
  parts.push(`<text x="10" y="${height - 10}" font-size="10" fill="#555" ${FONT}>${esc(o.note ?? o.yLabel)}</text>`);
  return svgDocument(width, height, parts);
}

function svgDocument(width: number, height: number, parts: string[]): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}"><rect width="100%" height="100%" fill="#fff"/>${parts.join('')}</svg>\n`;
}
