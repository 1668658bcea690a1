export { dump } from './dump.js';
export { dumpCore } from './core-dump.js';
export type { CoreDumpOptions } from './core-dump.js';
export type { DumpOptions, ProcessDump, ThreadDump, FrameDump, LocalVariable, LoopDump, TaskDump } from './dump.js';
export { record } from './record.js';
export { launch } from './launch.js';
export type { LaunchedProcess, LaunchOptions } from './launch.js';
export type { RecordOptions } from './record.js';
export { startLive, snapshotDelta } from './live.js';
export type { LiveOptions, LiveRecorder, LiveSnapshot, LiveEnd } from './live.js';
export {
  PyspyError,
  ProcessNotFoundError,
  PermissionDeniedError,
  NotPythonError,
  UnsupportedVersionError,
  ProcessExitedError,
  ReadFailedError,
  InvalidArgumentError,
  NativeAddonError,
  EmptyCoreError,
  NotACoreError,
  TruncatedCoreError,
  UnsupportedArchitectureError,
  MissingBinaryError,
  toPyspyError,
  ERROR_CODES,
} from './errors.js';
export type { PyspyErrorCode } from './errors.js';
export type { Profile, Frame, ThreadInfo, StackCount, ProfileStats } from '@pyspy/render';
export type { SamplingOptions, SamplingTarget } from './sampling.js';
