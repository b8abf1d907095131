import { existsSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { buildSites } from '../helpers';

describe('handler bundling', () => {
  it('bundles every handler with the local esbuild, minified with a source map', () => {
    const { app } = buildSites({}, { bundle: true });
    const assembly = app.synth();
    const manifest = JSON.parse(
      readFileSync(path.join(assembly.directory, 'Mirrorbeat-orders-standby.assets.json'), 'utf8'),
    ) as { files: Record<string, { source: { path: string } }> };
    const bundles = Object.values(manifest.files)
      .map((f) => path.join(assembly.directory, f.source.path))
      .filter((dir) => existsSync(path.join(dir, 'index.js')));
    expect(bundles).toHaveLength(4);
    for (const dir of bundles) {
      expect(existsSync(path.join(dir, 'index.js.map'))).toBe(true);
      const code = readFileSync(path.join(dir, 'index.js'), 'utf8');
      expect(code).toContain('handler');
      // The SDK v3 ships in the Node.js 24 runtime; bundles stay small.
      expect(statSync(path.join(dir, 'index.js')).size).toBeLessThan(1_000_000);
    }
  });
});
