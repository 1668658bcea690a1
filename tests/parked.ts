/**
 * The parked-threads target (targets/parked_threads.py): named threads parked at known lines, and
 * the ground truth CPython itself reports for them. `dump` and `dump --core` are checked against it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Interpreter, type StartedTarget, startPython, targetsDir, taskCount, tempDir, waitFor } from './helpers.js';

export interface TruthFrame {
  name: string;
  filename: string;
  line: number;
}
export interface TruthThread {
  ident: number;
  native_id: number;
  name: string;
  frames: TruthFrame[];
}
export interface Truth {
  pid: number;
  version: string;
  threads: TruthThread[];
  /** What the target's own `Preview` (reprlib, set to pyspy-ts's rules) makes of each local of `with_previews`. */
  previews: Record<string, string>;
}

/**
 * Starts parked_threads.py and waits until its reporter has written the truth. Without
 * `abortTrigger` the reporter then exits (waited for); with it, the reporter stays, and aborts
 * the process (a core, in `cwd`) once that file exists.
 */
export async function startParked(
  interp: Interpreter,
  options: { cwd?: string; abortTrigger?: string } = {},
): Promise<{ target: StartedTarget; truth: Truth }> {
  const truthPath = join(tempDir('truth'), 'truth.json');
  const args = [join(targetsDir, 'parked_threads.py'), truthPath, ...(options.abortTrigger ? [options.abortTrigger] : [])];
  const target = await startPython(interp, args, { cwd: options.cwd });
  const truth = await waitFor(
    () => `ground truth from ${interp.id} (output so far: ${target.output()})`,
    () => (existsSync(truthPath) ? (JSON.parse(readFileSync(truthPath, 'utf8')) as Truth) : undefined),
  );
  const reporters = options.abortTrigger ? 1 : 0;
  await waitFor('the reporter thread to exit', () => taskCount(target.pid) === truth.threads.length + reporters);
  return { target, truth };
}

/** The parts of a frame that CPython's own report has. */
export const frames = (list: { name: string; filename: string; line: number }[]) =>
  list.map(({ name, filename, line }) => ({ name, filename, line }));
