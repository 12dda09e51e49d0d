// The committed dashboard against Grafana's own dashboard schema (the TypeScript types @grafana/schema generates
// from it): the file is read as JSON and checked at compile time, so a dashboard Grafana would not load fails the
// type check (`make typecheck`, part of `make test`) and this test names the file that was checked.
import { describe, expect, it } from '@jest/globals';
import type { Dashboard } from '@grafana/schema';
import dashboard from '../../deploy/monitoring/weft-dashboard.json' with { type: 'json' };

/**
 * A type as JSON can spell it: a JSON file's strings are `string` to TypeScript, never one of Grafana's string enums
 * (ThresholdsMode, ...), so those become `string`; every field name, nesting and other type is checked as Grafana
 * declares it.
 */
type JsonForm<T> = T extends string ? string : T extends ReadonlyArray<infer E> ? Array<JsonForm<E>> : T extends object ? { [K in keyof T]: JsonForm<T[K]> } : T;

/** Fails to compile unless the JSON is a Dashboard. */
const checked: JsonForm<Dashboard> = dashboard;

describe('the Grafana dashboard', () => {
  it("is a Dashboard in Grafana's schema, with panels", () => {
    expect(checked.title).toMatch(/Weft/);
    expect(checked.panels?.length).toBeGreaterThan(0);
  });
});
