import { defineConfig } from 'vitest/config';

/** `npm run test:deploy`: the deploy suite, run from cdk.out after `cdk synth`; never part of the default run. */
export default defineConfig({
  test: {
    root: new URL('../..', import.meta.url).pathname,
    include: ['test/deploy/**/*.test.ts'],
    testTimeout: 180_000,
    hookTimeout: 180_000,
    // One file at a time: each starts Node 24 workers for every function on a 2-core machine.
    fileParallelism: false,
    reporters: ['default'],
  },
});
