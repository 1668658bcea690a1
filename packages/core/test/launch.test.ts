import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { launch, settleLaunched } from '../src/launch.js';

const parentOf = (pid: number) => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
};

describe('launch', () => {
  it('starts the program as a grandchild, never a direct child of Node', async () => {
    const child = await launch(['sleep', '5'], { stdio: 'ignore' });
    try {
      // The pid is known from the fork on; the exec follows within moments.
      const program = () => readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').split('\0')[0];
      for (let i = 0; i < 200 && program() !== 'sleep'; i++) await new Promise((r) => setTimeout(r, 5));
      expect(program()).toBe('sleep');
      expect(parentOf(child.pid)).not.toBe(process.pid);
      expect(parentOf(parentOf(child.pid))).toBe(process.pid);
    } finally {
      child.kill('SIGKILL');
    }
    expect(await child.exited).toBe(128 + 9);
  });

  it("passes the program's exit code through", async () => {
    const child = await launch(['sh', '-c', 'sleep 0.2; exit 7'], { stdio: 'ignore' });
    expect(await child.exited).toBe(7);
    expect(child.hasExited()).toBe(true);
  });

  it('says when the command does not exist', async () => {
    await expect(launch(['/nonexistent/python3'], { stdio: 'ignore' })).rejects.toThrow(
      /could not start \/nonexistent\/python3: command not found/,
    );
  });

  it('gives the program the real stderr, and ending it prints no shell\'s "Terminated"', async () => {
    const child = await launch(['sh', '-c', 'echo from-program >&2; exec sleep 30'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    for (let i = 0; i < 200 && !stderr.includes('from-program'); i++) await new Promise((r) => setTimeout(r, 5));
    expect(await settleLaunched(child, false)).toBeUndefined();
    await new Promise((r) => setTimeout(r, 50));
    expect(stderr).toBe('from-program\n');
  });
});
