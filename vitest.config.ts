import { defineConfig } from 'vitest/config';

// Two projects: pure unit tests, and database tests that drive the real app against a fresh
// database per file (PGlite by default, PostgreSQL when DATABASE_URL is set).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: ['test/**/*.db.test.ts'],
        },
      },
      {
        test: {
          name: 'db',
          include: ['test/**/*.db.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
