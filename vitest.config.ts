import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts', 'test/integration/**/*.test.ts'],
    // integration files each start their own servers; two at a time suits a 2-core machine
    pool: 'forks',
    globalSetup: ['test/helpers/scratch-root.ts'],
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
