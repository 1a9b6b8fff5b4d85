import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two test files at a time. Vitest's default is one fewer than the cores: one at a time on
    // a 2-core machine, where most files spend their time waiting on a database, a server
    // restart or a child process (`CI=true npm test` quiet: 23 min one at a time, 14–15 min
    // two at a time).
    // The files share the database servers by design (each its own databases and ports).
    maxWorkers: 2,
  },
});
