import { describe, expect, it } from 'vitest';
import { formatCount } from '../src/format.js';

describe('formatCount', () => {
  it('writes numbers as en-US Intl.NumberFormat does', () => {
    const intl = new Intl.NumberFormat('en-US');
    for (const n of [
      0, 7, 999, 1000, 1234, 99_999, 100_000, 1_234_567, 987_654_321_012, 0.5, 99.9, 1234.5678, 100.0004, -1234, -0.0001, 20_000,
    ]) {
      expect(formatCount(n), String(n)).toBe(intl.format(n));
    }
  });
});
