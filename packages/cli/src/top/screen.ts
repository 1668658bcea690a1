/**
 * A full-screen view with plain ANSI: the alternate screen buffer, a hidden cursor, every frame
 * drawn from the top-left with each line cut to the width, so nothing ever scrolls. Whatever ends
 * the program, the terminal is given back as it was.
 */

export type LineStyle = 'reverse' | 'bold';

export interface ScreenLine {
  text: string;
  style?: LineStyle;
}

const CSI = '\x1b[';
const ENTER = `${CSI}?1049h${CSI}?25l${CSI}H${CSI}2J`;
const LEAVE = `${CSI}0m${CSI}?25h${CSI}?1049l`;
const STYLES: Record<LineStyle, string> = { reverse: `${CSI}7m`, bold: `${CSI}1m` };

/** Columns a code point takes: combining marks none, East Asian wide and emoji two. */
function codePointWidth(cp: number): number {
  if (cp < 0x300) return 1;
  if ((cp >= 0x300 && cp <= 0x36f) || (cp >= 0x200b && cp <= 0x200f) || (cp >= 0xfe00 && cp <= 0xfe0f)) return 0;
  if (
    (cp >= 0x1100 && cp <= 0x115f) ||
    (cp >= 0x2e80 && cp <= 0xa4cf) ||
    (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) ||
    (cp >= 0x1f300 && cp <= 0x1faff) ||
    (cp >= 0x20000 && cp <= 0x3fffd)
  ) {
    return 2;
  }
  return 1;
}

export function displayWidth(text: string): number {
  let width = 0;
  for (const ch of text) width += codePointWidth(ch.codePointAt(0)!);
  return width;
}

/** The longest prefix of `text` that fits in `width` columns. */
export function fitWidth(text: string, width: number): string {
  let used = 0;
  let end = 0;
  for (const ch of text) {
    const w = codePointWidth(ch.codePointAt(0)!);
    if (used + w > width) return text.slice(0, end);
    used += w;
    end += ch.length;
  }
  return text;
}

/**
 * One frame of output for a `width` x `height` terminal. A line that fills the width is not
 * followed by erase-to-end-of-line: the cursor then waits on the last column and the erase would
 * take that character. The rest of the screen is cleared from an explicit position for the same reason.
 */
export function renderFrame(lines: ScreenLine[], width: number, height: number): string {
  const shown = lines.slice(0, Math.max(0, height));
  let out = `${CSI}H`;
  shown.forEach((line, i) => {
    let text = fitWidth(line.text, width);
    if (line.style === 'reverse') text += ' '.repeat(Math.max(0, width - displayWidth(text)));
    const full = displayWidth(text) >= width;
    out += line.style ? `${STYLES[line.style]}${text}${CSI}0m` : text;
    if (!full) out += `${CSI}K`;
    if (i < shown.length - 1) out += '\r\n';
  });
  if (shown.length < height) out += `${CSI}${shown.length + 1};1H${CSI}J`;
  return out;
}

/** Keys as the view understands them; escape sequences (arrows, function keys) are dropped whole. */
export function decodeKeys(chunk: string): string[] {
  if (chunk.startsWith('\x1b')) return chunk === '\x1b' ? ['escape'] : [];
  const keys: string[] = [];
  for (const ch of chunk) {
    if (ch === '\x03') keys.push('ctrl-c');
    else if (ch === '\x1b') break;
    else keys.push(ch);
  }
  return keys;
}

export class Screen {
  private active = false;
  private readonly onData = (chunk: string) => {
    for (const key of decodeKeys(chunk)) this.onKey?.(key);
  };
  private readonly restoreAtExit = () => this.leave();
  private onKey: ((key: string) => void) | undefined;

  constructor(
    private readonly output: NodeJS.WriteStream,
    private readonly input: NodeJS.ReadStream,
  ) {}

  get width(): number {
    return this.output.columns || 80;
  }

  get height(): number {
    return this.output.rows || 24;
  }

  enter(onKey: (key: string) => void): void {
    if (this.active) return;
    this.active = true;
    this.onKey = onKey;
    // Last resort: an exit we did not plan for (an uncaught error, process.exit elsewhere) still restores.
    process.on('exit', this.restoreAtExit);
    this.output.write(ENTER);
    if (this.input.isTTY) {
      // Raw: keys arrive one by one, unechoed, and Ctrl-C is a key (no SIGINT) that quits cleanly.
      this.input.setRawMode(true);
      this.input.setEncoding('utf8');
      this.input.on('data', this.onData);
      this.input.resume();
    }
  }

  draw(lines: ScreenLine[]): void {
    if (this.active) this.output.write(renderFrame(lines, this.width, this.height));
  }

  leave(): void {
    if (!this.active) return;
    this.active = false;
    process.off('exit', this.restoreAtExit);
    if (this.input.isTTY) {
      this.input.off('data', this.onData);
      try {
        this.input.setRawMode(false);
      } catch {
        // The terminal is already gone (SIGHUP): nothing left to restore.
      }
      this.input.pause();
    }
    try {
      this.output.write(LEAVE);
    } catch {
      // As above.
    }
  }
}
