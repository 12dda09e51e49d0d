// CI fails here when manifests/ is stale: it must be exactly what src/api and src/install generate.
import { describe, expect, it } from '@jest/globals';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GENERATED_HEADER, MANIFESTS_DIR, renderManifests } from './manifests.js';

const repoRoot = join(import.meta.dirname, '..', '..');
const dir = join(repoRoot, MANIFESTS_DIR);
const STALE = `${MANIFESTS_DIR} is stale: run make manifests and commit the result`;

describe('manifests/', () => {
  const generated = renderManifests();

  it('holds exactly the generated files', () => {
    const committed = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort() : [];
    expect({ files: committed, hint: STALE }).toEqual({ files: [...generated.keys()], hint: STALE });
  });

  it.each([...generated.keys()])('%s matches src/', (name) => {
    const path = join(dir, name);
    const committed = existsSync(path) ? readFileSync(path, 'utf8') : '';
    if (committed !== generated.get(name)) throw new Error(`${MANIFESTS_DIR}/${name} differs from src: ${STALE}`);
  });

  it('renders deterministically, with the generated header', () => {
    const again = renderManifests();
    for (const [name, text] of generated) {
      expect(text.startsWith(GENERATED_HEADER)).toBe(true);
      expect(again.get(name)).toBe(text);
    }
  });
});
