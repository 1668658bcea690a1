/** Options shared by several commands, defined once. */
import type { Options } from 'yargs';
import { InvalidArgumentError } from '@pyspy/core';

export const pidOption = {
  type: 'number',
  describe: 'PID of a running Python process',
  requiresArg: true,
} as const satisfies Options;

export const nonblockingOption = {
  type: 'boolean',
  default: false,
  describe: "Don't pause the target while reading it: less overhead, stacks may be inconsistent",
} as const satisfies Options;

export function parsePid(value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new InvalidArgumentError(`--pid must be a positive integer, got ${String(value)}`);
  }
  return value;
}
