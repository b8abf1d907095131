import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

/**
 * The docs stay true to the CLI (issue 34, 7): every `npx mirrorbeat ...` command that README.md and docs/ show, in a
 * code block or inline, is accepted by the CLI's own parser with every flag it shows. Nothing runs: each command's
 * action is replaced, so commands that need AWS are checked too. Placeholders become sample values.
 */
const ROOT = path.join(__dirname, '..');
const FILES = ['README.md', ...readdirSync(path.join(ROOT, 'docs')).map((f) => path.join('docs', f))];

/** What a placeholder in the docs stands for. */
const SAMPLES: Readonly<Record<string, string>> = {
  '<id>': '0001796612315748.path-failed.network',
  '<site>': 'standby',
  '<path>': 'network',
  FILE: 'local/scenarios/demo.json',
  N: '7',
  NAME: 'alice',
  '...': 'x',
};

/** The commands a file shows: each line of a fenced block that starts with it, and each inline code span. */
function commandsIn(text: string): string[] {
  const found: string[] = [];
  const blocks = text.split(/^```/m);
  blocks.forEach((part, i) => {
    if (i % 2 === 1) {
      for (const line of part.split('\n')) {
        const m = /^\s*npx mirrorbeat(?: (.*))?$/.exec(line);
        if (m) found.push((m[1] ?? '').replace(/\s+#.*$/, '').trim());
      }
    } else {
      for (const m of part.matchAll(/`npx mirrorbeat ([^`]+)`/g)) found.push((m[1] ?? '').replace(/\s+/g, ' ').trim());
    }
  });
  return found;
}

/** Words as a shell splits them (double quotes only), with [optional] parts kept and a|b alternatives' first taken. */
function argvOf(command: string): string[] {
  const words = command.match(/"[^"]*"|\S+/g) ?? [];
  return words
    .map((w) => w.replace(/^\[|\]$/g, ''))
    .map((w) => (w.startsWith('"') ? w.slice(1, -1) : (w.split('|')[0] ?? w)))
    .map((w) => SAMPLES[w] ?? w)
    .filter((w) => w !== '');
}

const shown = FILES.flatMap((file) =>
  commandsIn(readFileSync(path.join(ROOT, file), 'utf8')).map((command) => [file, command] as const),
);

describe('the commands the docs show', () => {
  it('are found: the docs show the commands an operator types', () => {
    expect(shown.length).toBeGreaterThan(50);
    const names = new Set(shown.map(([, c]) => c.split(' ')[0]));
    for (const name of ['status', 'failover', 'switchover', 'path', 'simulate', 'preflight', 'ack', 'maintenance'])
      expect(names).toContain(name);
  });

  it('are each accepted by the parser, with every flag they show', () => {
    // The last one is a control: a flag no command has must be refused, or this test could never fail.
    const argvs = [...shown.map(([, command]) => argvOf(command)), ['status', '--no-such-flag']];
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'mirrorbeat-docs-')), 'argvs.json');
    writeFileSync(file, JSON.stringify(argvs));
    // In a child process as bin/mirrorbeat.js runs: commander is an ES module, which Jest's runtime cannot load.
    const out = spawnSync(
      process.execPath,
      [
        '-e',
        "require('tsx/cjs/api').register(); require(process.argv[1])",
        path.join(__dirname, 'docs-parse.ts'),
        file,
      ],
      { cwd: ROOT, encoding: 'utf8', env: { ...process.env, ESBUILD_WORKER_THREADS: '0' } },
    );
    expect(out.stderr).toBe('');
    const refused = JSON.parse(out.stdout) as (string | null)[];
    expect(refused.at(-1)).toMatch(/unknown option '--no-such-flag'/);
    const wrong = shown
      .map(([file], i) => ({
        where: file,
        command: `npx mirrorbeat ${argvs[i]?.join(' ')}`,
        refused: refused[i],
      }))
      .filter((r) => r.refused !== null);
    expect(wrong).toEqual([]);
  });

  it("quote the committed bench results: the per-interval table, the pair's cost and its items", () => {
    const bench = JSON.parse(readFileSync(path.join(ROOT, 'bench', 'results', 'bench.json'), 'utf8')) as {
      intervals: Record<
        string,
        {
          p50Ms: number;
          p99Ms: number;
          maxMs: number;
          falseFailovers: number;
          nonFailureTraces: number;
          costPerMonthUsd: number;
          backstopPerMonthUsd: number;
          leaseSeconds: number;
        }
      >;
      costPerMonthUsd: { total: number; items: Record<string, number> };
    };
    const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
    const usd = (n: number) => `$${n.toFixed(2)}`;
    const configuration = readFileSync(path.join(ROOT, 'docs', 'CONFIGURATION.md'), 'utf8');
    for (const [interval, r] of Object.entries(bench.intervals)) {
      const row = `| ${interval} s${interval === '2' ? ' (default)' : ''} | ${r.leaseSeconds} s | ${s(r.p50Ms)} | ${s(r.p99Ms)} | ${s(r.maxMs)} | ${r.falseFailovers} of ${r.nonFailureTraces.toLocaleString('en-US')} | ${usd(r.costPerMonthUsd)} (${usd(r.backstopPerMonthUsd)}) |`;
      expect(configuration).toContain(row);
    }
    const { total, items } = bench.costPerMonthUsd;
    expect(configuration).toContain(`The bench prices the default pair at ${usd(total)}`);
    const dynamodb = `DynamoDB (${usd(items.dynamodb ?? NaN)}`;
    for (const doc of ['docs/CONFIGURATION.md', 'docs/ARCHITECTURE.md'])
      expect([doc, readFileSync(path.join(ROOT, doc), 'utf8').includes(dynamodb)]).toEqual([doc, true]);
    expect(readFileSync(path.join(ROOT, 'README.md'), 'utf8')).toContain(`requests (${usd(items.dynamodb ?? NaN)},`);
    expect(readFileSync(path.join(ROOT, 'docs', 'ARCHITECTURE.md'), 'utf8')).toContain(
      `alarms $${(items['cloudwatch-alarms'] ?? NaN).toFixed(2)}`,
    );
  });

  it('name only scenario files that exist, and SCENARIOS.md names every one that does', () => {
    const files = readdirSync(path.join(ROOT, 'local', 'scenarios')).map((f) => f.replace(/\.json$/, ''));
    const named = FILES.flatMap((file) =>
      [...readFileSync(path.join(ROOT, file), 'utf8').matchAll(/local\/scenarios\/([a-z0-9-]+)\.json/g)].map((m) => [
        file,
        m[1],
      ]),
    );
    expect(named.filter(([, name]) => !files.includes(name ?? ''))).toEqual([]);
    const scenariosDoc = readFileSync(path.join(ROOT, 'docs', 'SCENARIOS.md'), 'utf8');
    expect(files.filter((name) => !name.startsWith('regression-') && !scenariosDoc.includes(`\`${name}\``))).toEqual(
      [],
    );
  });
});
