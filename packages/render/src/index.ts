export type { Profile, Frame, FrameKind, ThreadInfo, StackCount, ProfileStats, StatCounter, ProfileUnit } from './profile.js';
export { STAT_COUNTERS, FRAME_KINDS, PROFILE_UNITS, emptyStats, kindFromLabel } from './profile.js';
export { formatCount, formatCpuTime, formatWeight, totalWeight, isWeightedByCpu } from './units.js';
export {
  GC_FRAME_NAME,
  processFrameName,
  pseudoFrameKind,
  processRootOf,
  hasProcessRoots,
  processNames,
} from './process-roots.js';
export { renderCollapsed, foldStacks, frameLabel, threadLabel } from './collapsed.js';
export type { CollapseOptions } from './collapsed.js';
export { renderSpeedscope } from './speedscope.js';
export type { SpeedscopeOptions } from './speedscope.js';
export { renderChromeTrace } from './chrometrace.js';
export { renderFlamegraph } from './flamegraph.js';
export type { FlamegraphOptions, FrameStyle } from './flamegraph.js';
export type { FlameFrame, FlamegraphLayout } from './flamegraph-layout.js';
export {
  renderProfileJson,
  parseProfile,
  profileFromJson,
  isProfileJson,
  ProfileFormatError,
  PROFILE_FORMAT,
  PROFILE_FORMAT_VERSION,
} from './profile-json.js';
export {
  loadProfileText,
  detectProfileKind,
  parseCollapsedProfile,
  speedscopeToProfile,
  parseFrameLabel,
} from './profile-input.js';
export type { ProfileInputKind } from './profile-input.js';
export { diffProfiles, normalizeProfile, functionShares, matchFileNames, functionMatches } from './diff.js';
export type { DiffOptions, DiffGranularity, FunctionShare, FunctionDelta, ProfileDiff } from './diff.js';
export {
  parseThreshold,
  evaluateThresholds,
  unmatchedFunctionThresholds,
  formatDiffText,
  formatDiffMarkdown,
  formatDiffJson,
  unitsDiffer,
  ThresholdSyntaxError,
} from './diff-report.js';
export type { Threshold, Violation } from './diff-report.js';
export { renderDiffFlamegraph, deltaFill } from './diff-flamegraph.js';
export type { DiffFlamegraphOptions } from './diff-flamegraph.js';
export { renderPprof } from './pprof.js';
