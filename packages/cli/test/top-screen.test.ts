import { describe, expect, it } from 'vitest';
import { decodeKeys, displayWidth, fitWidth, renderFrame } from '../src/top/screen.js';

describe('top screen output', () => {
  it('cuts lines to the width, counting wide characters as two columns', () => {
    expect(fitWidth('abcdef', 4)).toBe('abcd');
    expect(fitWidth('数据处理', 5)).toBe('数据');
    expect(displayWidth('e\u0301')).toBe(1);
    expect(fitWidth('paquete_ü.py', 9)).toBe('paquete_ü');
  });

  it('draws from the top-left, erases after short lines, and clears what is below', () => {
    const frame = renderFrame([{ text: 'ab' }, { text: 'cd' }], 10, 5);
    expect(frame).toBe('\x1b[Hab\x1b[K\r\ncd\x1b[K\x1b[3;1H\x1b[J');
  });

  it('does not erase after a line that fills the width (the erase would take its last character)', () => {
    const frame = renderFrame([{ text: 'abcdefgh' }, { text: 'x' }], 4, 2);
    expect(frame).toBe('\x1b[Habcd\r\nx\x1b[K');
  });

  it('never writes more lines than the height, nor a newline after the last one', () => {
    const frame = renderFrame(
      Array.from({ length: 10 }, (_, i) => ({ text: `line ${i}` })),
      20,
      3,
    );
    expect(frame.split('\r\n')).toHaveLength(3);
    expect(frame.endsWith('\x1b[K')).toBe(true);
    expect(frame).not.toMatch(/\n(?!.)/s);
  });

  it('pads a reverse-video line to the full width so the bar spans it', () => {
    expect(renderFrame([{ text: 'ab', style: 'reverse' }], 4, 1)).toBe('\x1b[H\x1b[7mab  \x1b[0m');
  });
});

describe('top keys from the terminal', () => {
  it('reads several keys from one chunk and Ctrl-C as a key', () => {
    expect(decodeKeys('2L')).toEqual(['2', 'L']);
    expect(decodeKeys('\x03')).toEqual(['ctrl-c']);
  });

  it('drops escape sequences (arrows, function keys) rather than reading their letters as commands', () => {
    expect(decodeKeys('\x1b[A')).toEqual([]);
    expect(decodeKeys('\x1bOP')).toEqual([]);
    expect(decodeKeys('\x1b')).toEqual(['escape']);
  });
});
