// CI fails here when manifests/crds is stale: the CRD YAML must be exactly what src/api generates.
import { describe, expect, it } from '@jest/globals';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CRD_DIR, GENERATED_HEADER, renderCrdManifests } from './manifests.js';

const repoRoot = join(import.meta.dirname, '..', '..');
const dir = join(repoRoot, CRD_DIR);
const STALE = `${CRD_DIR} is stale: run make manifests and commit the result`;

describe('manifests/crds', () => {
  const generated = renderCrdManifests();

  it('holds exactly the generated files', () => {
    const committed = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort() : [];
    expect({ files: committed, hint: STALE }).toEqual({ files: [...generated.keys()], hint: STALE });
  });

  it.each([...generated.keys()])('%s matches src/api', (name) => {
    const path = join(dir, name);
    const committed = existsSync(path) ? readFileSync(path, 'utf8') : '';
    if (committed !== generated.get(name)) throw new Error(`${CRD_DIR}/${name} differs from src/api: ${STALE}`);
  });

  it('renders deterministically, with the generated header', () => {
    const again = renderCrdManifests();
    for (const [name, text] of generated) {
      expect(text.startsWith(GENERATED_HEADER)).toBe(true);
      expect(again.get(name)).toBe(text);
    }
  });
});
