import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The deploy suite needs cdk.out and runs on its own (npm run test:deploy).
    exclude: [...configDefaults.exclude, 'test/deploy/**'],
    // The e2e tests spawn what ships (dist/offboard.js): build it once per run, from the sources under test.
    globalSetup: ['test/support/build-cli.setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Two cores: keep parallelism modest so timing-sensitive retry tests stay honest.
    maxWorkers: 2,
    // CI also writes machine-readable results, from which .ci/run prints a plain "N passed, N failed" line.
    reporters: process.env.CI ? ['default', 'json'] : ['default'],
    outputFile: { json: 'test-results.json' },
  },
});
