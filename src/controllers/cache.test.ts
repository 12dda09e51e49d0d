import { describe, expect, it } from '@jest/globals';
import { relistDiff, Store } from './cache.js';
import type { KubeObject } from './object.js';

const cm = (name: string, rv: string, namespace = 'ns', labels?: Record<string, string>): KubeObject => ({ metadata: { name, namespace, resourceVersion: rv, labels } });

describe('relistDiff', () => {
  it('turns a fresh list into adds, updates (changed resourceVersion only) and deletes', () => {
    const cached = new Map([
      ['ns/kept', cm('kept', '1')],
      ['ns/changed', cm('changed', '2')],
      ['ns/gone', cm('gone', '3')],
    ]);
    const events = relistDiff(cached, [cm('kept', '1'), cm('changed', '9'), cm('new', '10')]);
    expect(events.map((e) => [e.type, e.obj.metadata?.name, e.type === 'update' ? e.old.metadata?.resourceVersion : undefined])).toEqual([
      ['update', 'changed', '2'],
      ['add', 'new', undefined],
      ['delete', 'gone', undefined],
    ]);
  });

  it('deletes everything when the list comes back empty', () => {
    expect(relistDiff(new Map([['ns/a', cm('a', '1')]]), []).map((e) => e.type)).toEqual(['delete']);
  });
});

describe('Store', () => {
  it('keeps indexes in step with writes, replace() and deletes', () => {
    const store = new Store<KubeObject>();
    store.addIndex('app', (o) => (o.metadata?.labels?.app ? [o.metadata.labels.app] : []));
    store.set(cm('a', '1', 'ns', { app: 'web' }));
    store.set(cm('b', '1', 'other', { app: 'web' }));
    expect(store.byIndex('app', 'web').map((o) => o.metadata?.name).sort()).toEqual(['a', 'b']);
    expect(store.list('other').map((o) => o.metadata?.name)).toEqual(['b']);

    store.set(cm('a', '2', 'ns', { app: 'db' })); // relabelled: leaves the old bucket
    expect(store.byIndex('app', 'web').map((o) => o.metadata?.name)).toEqual(['b']);
    expect(store.byIndex('app', 'db').map((o) => o.metadata?.name)).toEqual(['a']);

    store.replace([cm('a', '2', 'ns', { app: 'db' })]);
    expect(store.byIndex('app', 'web')).toEqual([]);
    expect(store.list('other')).toEqual([]);
    expect(store.size).toBe(1);
    expect(() => store.byIndex('nope', 'x')).toThrow(/no index/);
  });

  it('leaves the index entries of an update that changes no indexed value as they were', () => {
    const store = new Store<KubeObject>();
    store.addIndex('app', (o) => (o.metadata?.labels?.app ? [o.metadata.labels.app] : []));
    store.set(cm('a', '1', 'ns', { app: 'web' }));
    store.set(cm('b', '1', 'ns', { app: 'web' }));
    const before = store.indexValues('app', 'ns/a');
    store.set(cm('a', '2', 'ns', { app: 'web' })); // a status write, say
    expect(store.indexValues('app', 'ns/a')).toBe(before);
    expect(store.byIndex('app', 'web').map((o) => o.metadata?.resourceVersion)).toEqual(['2', '1']);
    expect(store.list().map((o) => o.metadata?.name)).toEqual(['a', 'b']); // replaced in place
  });
});
