import { describe, expect, it } from '@jest/globals';
import { age, parseOutputFormat, render, table } from './output.js';

describe('CLI output', () => {
  it('prints tables as kubectl does: upper-case headers, padded columns, no trailing spaces', () => {
    expect(table(['name', 'state'], [['a-long-name', 'SYNCED'], ['b', 'STALE']])).toBe('NAME         STATE\na-long-name  SYNCED\nb            STALE\n');
  });

  it('renders the same data as JSON or YAML for scripts', () => {
    const data = [{ proxy: 'p', state: 'SYNCED' }];
    expect(JSON.parse(render('json', data, () => ''))).toEqual(data);
    expect(render('yaml', data, () => '')).toBe('- proxy: p\n  state: SYNCED\n');
    expect(render('table', data, () => 'T\n')).toBe('T\n');
  });

  it('refuses an unknown format, naming the flag', () => {
    expect(() => parseOutputFormat('xml')).toThrow('-o/--output: expected one of table, json, yaml, got xml');
  });

  it('prints ages as kubectl does', () => {
    expect(age(0, 5_000)).toBe('5s');
    expect(age(0, 10 * 60_000)).toBe('10m');
    expect(age(0, 5 * 3600_000)).toBe('5h');
    expect(age(0, 3 * 86400_000)).toBe('3d');
  });
});
