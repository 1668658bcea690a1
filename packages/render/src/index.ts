export type { Profile, Frame, ThreadInfo, StackCount, ProfileStats } from './profile.js';
export { renderCollapsed, foldStacks, frameLabel, threadLabel } from './collapsed.js';
export type { CollapseOptions } from './collapsed.js';
export { renderSpeedscope } from './speedscope.js';
export type { SpeedscopeOptions } from './speedscope.js';
export { renderChromeTrace } from './chrometrace.js';
export { renderFlamegraph } from './flamegraph.js';
export type { FlamegraphOptions } from './flamegraph.js';
