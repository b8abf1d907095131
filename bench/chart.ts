const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

const DOTS = 120;

/**
 * A strip chart of detection times per row (a detector, or an interval): a dot per detected failure (evenly thinned
 * past
 * DOTS), p50 and p99 marked; the rows named in `highlight` in blue.
 */
export function detectionChart(
  latencies: Readonly<Record<string, number[]>>,
  title: string,
  highlight: (row: string) => boolean = (row) => row === 'mirrorbeat',
): string {
  const rows = Object.entries(latencies);
  const step = Math.max(10, ...rows.flatMap(([, l]) => l.map((ms) => ms / 1000))) > 60 ? 10 : 5;
  const maxS = Math.ceil((Math.max(10, ...rows.flatMap(([, l]) => l.map((ms) => ms / 1000))) + 1) / step) * step;
  const width = 800;
  const left = 170;
  const plot = width - left - 40;
  const rowH = 56;
  const height = 76 + rows.length * rowH + 40;
  const x = (s: number) => left + (s / maxS) * plot;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="10" y="24" font-size="14" font-weight="bold">${escape(title)}</text>`,
  ];
  for (let s = 0; s <= maxS; s += step) {
    parts.push(
      `<line x1="${x(s)}" y1="40" x2="${x(s)}" y2="${height - 36}" stroke="#ddd"/>`,
      `<text x="${x(s)}" y="${height - 20}" text-anchor="middle" fill="#555">${s} s</text>`,
    );
  }
  rows.forEach(([id, values], i) => {
    const y = 76 + i * rowH;
    const sorted = [...values].sort((a, b) => a - b);
    parts.push(`<text x="${left - 10}" y="${y + 4}" text-anchor="end">${escape(id)}</text>`);
    if (sorted.length === 0) {
      parts.push(`<text x="${left + 4}" y="${y + 4}" fill="#a00">no failure detected</text>`);
      return;
    }
    // At most DOTS dots a row, at evenly spaced ranks (the fastest and the slowest among them): a corpus of thousands
    // of failures would otherwise make a chart of megabytes.
    const shown =
      sorted.length <= DOTS
        ? sorted
        : Array.from({ length: DOTS }, (_, k) => sorted[Math.round((k * (sorted.length - 1)) / (DOTS - 1))] as number);
    shown.forEach((ms, j) =>
      parts.push(
        `<circle cx="${x(ms / 1000).toFixed(1)}" cy="${(y - 8 + ((j * 7) % 17)).toFixed(1)}" r="2.2" fill="${highlight(id) ? '#1565c0' : '#888'}" fill-opacity="0.6"/>`,
      ),
    );
    const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] as number;
    // p50 labelled below its mark, p99 above, so the two never overlap.
    for (const [label, value, dy] of [
      ['p50', pct(0.5), 22],
      ['p99', pct(0.99), -16],
    ] as const) {
      parts.push(
        `<line x1="${x(value / 1000)}" y1="${y - 14}" x2="${x(value / 1000)}" y2="${y + 12}" stroke="#c62828" stroke-width="2"/>`,
        `<text x="${x(value / 1000)}" y="${y + dy}" text-anchor="middle" fill="#c62828" font-size="10">${label} ${(value / 1000).toFixed(1)} s</text>`,
      );
    }
  });
  parts.push('</svg>');
  return parts.join('\n');
}
