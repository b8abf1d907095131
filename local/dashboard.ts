/** One widget of a CloudWatch dashboard body, as much of it as a sketch needs. */
export interface DashboardWidget {
  readonly type: string;
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  readonly title: string;
}

/** CloudWatch dashboards are 24 units wide. */
export const GRID_COLUMNS = 24;
const CHARS_PER_COLUMN = 4;

const KIND: Record<string, string> = { metric: 'graph', text: 'text', log: 'logs', alarm: 'alarms' };

/** The widgets of a dashboard body (the JSON CloudFormation deploys), with their place and title. */
export function widgetsOf(body: unknown): DashboardWidget[] {
  const widgets = (body as { widgets?: unknown[] } | null)?.widgets;
  if (!Array.isArray(widgets)) throw new Error('dashboard body: expected { widgets: [...] }');
  return widgets.map((w, i) => {
    const widget = w as {
      type?: unknown;
      x?: unknown;
      y?: unknown;
      width?: unknown;
      height?: unknown;
      properties?: { title?: unknown; markdown?: unknown; view?: unknown };
    };
    for (const key of ['x', 'y', 'width', 'height'] as const) {
      if (typeof widget[key] !== 'number') throw new Error(`dashboard body: widgets[${i}].${key} is not a number`);
    }
    const props = widget.properties ?? {};
    const markdownTitle =
      typeof props.markdown === 'string' ? (props.markdown.split('\n')[0] ?? '').replace(/^#+\s*/, '') : '';
    const kind =
      widget.type === 'metric' && props.view === 'singleValue'
        ? 'value'
        : (KIND[String(widget.type)] ?? String(widget.type));
    return {
      type: kind,
      x: widget.x as number,
      y: widget.y as number,
      width: widget.width as number,
      height: widget.height as number,
      title: typeof props.title === 'string' ? props.title : markdownTitle,
    };
  });
}

/** Pairs of widgets that overlap, and widgets that stick out of the 24 columns: what makes a layout wrong. */
export function layoutProblems(widgets: readonly DashboardWidget[]): string[] {
  const problems: string[] = [];
  widgets.forEach((a, i) => {
    if (a.x < 0 || a.x + a.width > GRID_COLUMNS)
      problems.push(`"${a.title}" spans columns ${a.x}..${a.x + a.width}, outside 0..${GRID_COLUMNS}`);
    widgets.slice(i + 1).forEach((b) => {
      if (a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height)
        problems.push(`"${a.title}" overlaps "${b.title}"`);
    });
  });
  return problems;
}

/** Words of `text` in lines of at most `width` characters. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    const next = line === '' ? word : `${line} ${word}`;
    if (next.length <= width) line = next;
    else {
      if (line !== '') lines.push(line);
      line = word.slice(0, width);
    }
  }
  if (line !== '') lines.push(line);
  return lines;
}

/**
 * The dashboard's grid as ASCII: one box per widget at its place, four characters per grid
 * column and one line per grid row, with its kind and title inside.
 */
export function sketchDashboard(body: unknown): string {
  const widgets = widgetsOf(body);
  const height = Math.max(0, ...widgets.map((w) => w.y + w.height));
  const canvas = Array.from({ length: height + 1 }, () => Array<string>(GRID_COLUMNS * CHARS_PER_COLUMN + 1).fill(' '));
  const put = (row: number, col: number, ch: string) => {
    const line = canvas[row];
    if (line === undefined || col >= line.length) return;
    // Corners win over edges where boxes meet.
    if (line[col] === '+' && ch !== '+') return;
    line[col] = ch;
  };
  for (const w of widgets) {
    const [x0, x1, y0, y1] = [w.x * CHARS_PER_COLUMN, (w.x + w.width) * CHARS_PER_COLUMN, w.y, w.y + w.height];
    for (let c = x0; c <= x1; c += 1) {
      put(y0, c, c === x0 || c === x1 ? '+' : '-');
      put(y1, c, c === x0 || c === x1 ? '+' : '-');
    }
    for (let r = y0 + 1; r < y1; r += 1) {
      put(r, x0, '|');
      put(r, x1, '|');
    }
    const inner = x1 - x0 - 3;
    wrap(`[${w.type}] ${w.title}`, inner)
      .slice(0, Math.max(0, y1 - y0 - 1))
      .forEach((text, i) => [...text].forEach((ch, j) => put(y0 + 1 + i, x0 + 2 + j, ch)));
  }
  return canvas.map((line) => line.join('').trimEnd()).join('\n');
}
