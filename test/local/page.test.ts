import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { chromium } from 'playwright-core';
import { renderPage } from '../../local/page';
import { simulateScenario } from '../../local/run';
import { parseScenario } from '../../local/scenario';
import { formatSummary } from '../../local/text';
import { dynamoEndpoint } from '../local-sites';

/** Debian's Chromium, which .ci/run installs when it is missing. */
const CHROMIUM = process.env.MIRRORBEAT_CHROMIUM ?? '/usr/bin/chromium';
/** As the machine's probe starts it: headless, and nothing that reaches for the network. */
const FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

describe('the game day as a page (mirrorbeat simulate --html)', () => {
  it('loads in a real Chromium without console errors: lanes, the gap without a primary shaded, details on hover', async () => {
    expect(existsSync(CHROMIUM)).toBe(true); // apt-get install chromium (.ci/run does)
    const scenario = parseScenario({
      name: 'production crashes, the standby takes over',
      seed: 4,
      durationMs: 60_000,
      events: [
        { atMs: 5_000, fault: 'crash', site: 'witness' },
        { atMs: 10_000, fault: 'crash', site: 'production' },
        { atMs: 40_000, fault: 'restart', site: 'witness' },
      ],
    });
    const result = await simulateScenario(scenario, { dynamoEndpoint: dynamoEndpoint() });
    expect(result.report.noPrimaryGaps).toHaveLength(1);
    const html = renderPage({
      scenario,
      seed: 4,
      configuration: 'the built-in demo cluster',
      result,
      summary: formatSummary(result.report, 0),
    });
    const dir = mkdtempSync(path.join(tmpdir(), 'mirrorbeat-page-'));
    const file = path.join(dir, 'game-day.html');
    writeFileSync(file, html);

    const browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
    try {
      const page = await browser.newPage({ viewport: { width: 1260, height: 720 } });
      const problems: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
      });
      page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
      page.on('request', (r) => {
        if (!r.url().startsWith('file:')) problems.push(`request outside the page: ${r.url()}`);
      });
      await page.goto(`file://${file}`);

      const lanes = await page.locator('svg#lanes text.lane').allTextContents();
      expect(lanes).toEqual(['production', 'standby', 'witness', 'scenario (path faults, commands)']);
      expect(await page.locator('svg#lanes rect.gap').count()).toBe(1);
      expect(await page.locator('svg#lanes rect.down').count()).toBe(1);
      expect(await page.locator('svg#lanes text.in').allTextContents()).toEqual(['primary @1', 'primary @2']);

      // The witness lane: the region as the run had it (no site can see it), and each site's leg to it.
      const rows = await page.locator('svg#lanes text.row').allTextContents();
      expect(rows.slice(-3)).toEqual(['region (the run)', 'leg to production', 'leg to standby']);
      const witnessDown = page.locator('svg#lanes rect[data-detail^="the witness region is down"]');
      expect(await witnessDown.count()).toBe(1);
      await witnessDown.hover();
      await page.locator('#tip').waitFor({ state: 'visible' });
      expect(await page.locator('#tip').textContent()).toBe(
        'the witness region is down from 5.0 s to 40.0 s (no site can see this)',
      );

      // Hovering the failover decision shows its record: the workflow's steps.
      const decision = page.locator('svg#lanes text.mark', { hasText: '◆' });
      expect(await decision.count()).toBe(1);
      await decision.hover();
      const tip = page.locator('#tip');
      await tip.waitFor({ state: 'visible' });
      expect(await tip.textContent()).toMatch(/failover Fence: epoch 2 written, production fenced/);

      const shot = await page.screenshot({ path: path.join(dir, 'game-day.png'), fullPage: true });
      expect(shot.length).toBeGreaterThan(20_000);
      expect(problems).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
