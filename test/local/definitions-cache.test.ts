import { synthesizeDefinitions } from '../../local/definitions';
import { cacheDefinitions, cachedDefinitions } from '../../local/definitions-cache';
import { config } from '../helpers';

/** `simulate` reuses the synthesized definitions across runs (a few seconds each), never for another configuration. */
describe('the cache of synthesized definitions', () => {
  it('gives back exactly what was synthesized, and nothing for a configuration it has not seen', () => {
    const mine = config({ clusterName: 'cachetest' });
    const other = config({ clusterName: 'cachetest', intervalSeconds: 3 });
    const synthesized = synthesizeDefinitions(mine);
    cacheDefinitions(mine, synthesized);
    expect(cachedDefinitions(mine)).toEqual(synthesized);
    expect(JSON.stringify(cachedDefinitions(mine))).toBe(JSON.stringify(synthesized));
    expect(cachedDefinitions(other)).toBeUndefined();
  });
});
