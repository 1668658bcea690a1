/** Reading a saved profile (`diff`, `convert`): our JSON, speedscope or collapsed stacks, told by content. */
import { readFileSync } from 'node:fs';
import { InvalidArgumentError } from '@pyspy/core';
import { loadProfileText, type Profile } from '@pyspy/render';

/** `what` names the file in messages ("base profile"); a file that cannot be read or parsed is a usage error. */
export function readProfileFile(path: string, what: string): Profile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new InvalidArgumentError(
      `cannot read ${what} ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
  try {
    return loadProfileText(text);
  } catch (error) {
    throw new InvalidArgumentError(`${what} ${path}: ${(error as Error).message}`);
  }
}
