import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two test files at a time. Vitest's default is one fewer than the cores: one at a time on
    // a 2-core machine, where most files spend their time waiting on a database, a server
    // restart or a child process (npm test: 35 min sequential under load, 23 min quiet).
    // The files share the database servers by design (each its own databases and ports).
    maxWorkers: 2,
  },
});
