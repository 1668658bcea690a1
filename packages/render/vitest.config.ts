import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The browser tests start Chromium; on a busy machine that takes seconds. A time limit here
    // only catches hangs, it is not a speed test.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
