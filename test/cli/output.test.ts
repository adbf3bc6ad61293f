import { describe, expect, it } from 'vitest';
import { colourEnabled, createOutput, relativeTime, visibleLength } from '../../src/cli/output.js';

const NOW = Date.UTC(2026, 10, 23, 12, 0, 0);
const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

describe('CLI output', () => {
  it('says how long ago or how far ahead a time is, in the largest unit that reads naturally', () => {
    const cases: [number, string][] = [
      [0, 'just now'],
      [-4 * SECOND, 'just now'],
      [-5 * SECOND, '5 seconds ago'],
      [-59 * SECOND, '59 seconds ago'],
      [-(59 * SECOND + 600), '1 minute ago'],
      [-3 * MINUTE, '3 minutes ago'],
      [-90 * MINUTE, '2 hours ago'],
      [-23 * HOUR, '23 hours ago'],
      [-(23 * HOUR + 40 * MINUTE), '1 day ago'],
      [-3 * DAY, '3 days ago'],
      [-45 * DAY, '45 days ago'],
      [90 * DAY, 'in 90 days'],
      [99 * DAY, 'in 99 days'],
      [-100 * DAY, '3 months ago'],
      [-330 * DAY, '11 months ago'],
      [-400 * DAY, '1 year ago'],
      [5 * 365 * DAY, 'in 5 years'],
      [5 * MINUTE, 'in 5 minutes'],
      [HOUR + 6 * MINUTE, 'in 1 hour'],
    ];
    for (const [offset, expected] of cases) expect(relativeTime(NOW + offset, NOW), `${offset} ms`).toBe(expected);
  });

  it('colours only a terminal without NO_COLOR (an empty NO_COLOR does not count)', () => {
    expect(colourEnabled(true, {})).toBe(true);
    expect(colourEnabled(true, { NO_COLOR: '' })).toBe(true);
    expect(colourEnabled(true, { NO_COLOR: '1' })).toBe(false);
    expect(colourEnabled(false, {})).toBe(false);
  });

  it('aligns table columns on what is visible, colour codes aside, without trailing spaces', () => {
    let written = '';
    const out = createOutput({ stdout: { write: (text: string) => (written += text) }, colour: true, clock: { now: () => NOW } });
    out.table(['ID', 'STATUS', 'NOTE'], [['key_1', out.paint('green', 'active'), ''], ['key_22', out.paint('red', 'revoked'), 'x']]);
    const lines = written.split('\n').map((line) => line.replace(/\u001b\[\d+m/g, ''));
    expect(lines).toEqual(['ID      STATUS   NOTE', 'key_1   active', 'key_22  revoked  x', '']);
    expect(visibleLength(out.paint('bold', 'STATUS'))).toBe(6);
    expect(out.ago(null)).toBe('never');
    expect(out.ago(null, '-')).toBe('-');
  });
});
