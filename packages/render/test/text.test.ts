import { describe, expect, it } from 'vitest';
import { estimateTextWidth, fitLabel } from '../src/text-fit.js';
import { escapeXml } from '../src/xml.js';

const oneUnitPerChar = (text: string) => Array.from(text).length;

describe('escapeXml', () => {
  it('escapes the five XML specials', () => {
    expect(escapeXml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&apos;&amp;&apos;&lt;/a&gt;');
  });

  it('keeps non-ASCII text as it is', () => {
    expect(escapeXml('función_ñandú 関数 🐍')).toBe('función_ñandú 関数 🐍');
  });

  it('keeps whitespace through attribute normalisation and replaces what XML forbids', () => {
    expect(escapeXml('a\tb\nc\rd')).toBe('a&#9;b&#10;c&#13;d');
    expect(escapeXml('\u0000x\u001f\uFFFF\uD800')).toBe('\uFFFDx\uFFFD\uFFFD\uFFFD');
  });
});

describe('fitLabel', () => {
  it('keeps a label that fits', () => {
    expect(fitLabel('main', 10, oneUnitPerChar)).toBe('main');
  });

  it('cuts a label that does not, ending in ".."', () => {
    expect(fitLabel('abcdefghij', 12, oneUnitPerChar)).toBe('abcd..');
  });

  it('shows nothing when not even one character fits', () => {
    expect(fitLabel('abcdefghij', 8, oneUnitPerChar)).toBe('');
    expect(fitLabel('abc', 0, oneUnitPerChar)).toBe('');
  });

  it('cuts between code points, not inside a surrogate pair', () => {
    expect(fitLabel('🐍🐍🐍🐍🐍', 10, oneUnitPerChar)).toBe('🐍🐍..');
  });
});

describe('estimateTextWidth', () => {
  it('counts wide characters as a full em', () => {
    expect(estimateTextWidth('関数', 10)).toBe(20);
    expect(estimateTextWidth('🐍', 10)).toBe(10);
    expect(estimateTextWidth('ab', 10)).toBeCloseTo(12.4);
  });
});
