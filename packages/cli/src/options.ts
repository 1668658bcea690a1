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

/** Sampling options that `record` and `top` share, as py-spy users know them. */
export const samplingOptions = {
  rate: {
    type: 'number',
    default: 100,
    describe: 'Samples per second',
    requiresArg: true,
  },
  nonblocking: nonblockingOption,
  gil: {
    type: 'boolean',
    default: false,
    describe: 'Only include samples from the thread holding the GIL',
  },
  idle: {
    type: 'boolean',
    default: false,
    describe: 'Include idle threads (sleeping, waiting on I/O or locks)',
  },
  subprocesses: {
    type: 'boolean',
    default: false,
    describe: 'Also profile Python child processes (multiprocessing pools, subprocess)',
  },
} as const satisfies Record<string, Options>;

export function parseRate(value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > 1_000_000) {
    throw new InvalidArgumentError(`--rate must be a number of samples per second between 0 and 1000000, got ${String(value)}`);
  }
  return value;
}
