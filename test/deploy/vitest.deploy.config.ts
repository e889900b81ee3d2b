import type { Reporter, TestModule } from 'vitest/node';
import { defineConfig } from 'vitest/config';

/** One plain closing line, whatever the terminal: "deploy suite: N passed, N failed". */
const summary: Reporter = {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>) {
    let passed = 0;
    let failed = 0;
    for (const module of testModules) {
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') passed += 1;
        else if (state === 'failed') failed += 1;
      }
      if (module.state() === 'failed' && [...module.children.allTests()].every((t) => t.result().state !== 'failed')) failed += 1;
    }
    console.log(`deploy suite: ${passed} passed, ${failed} failed`);
  },
};

/** `npm run test:deploy`: the deploy suite, run from cdk.out after `cdk synth`; never part of the default run. */
export default defineConfig({
  test: {
    root: new URL('../..', import.meta.url).pathname,
    include: ['test/deploy/**/*.test.ts'],
    // The 1,000-email approval deletes at the template's Arize rate (10 req/s per invocation), with the access
    // inventory and the read-back (~8 Arize calls per leaver instead of 2): many minutes on a busy machine.
    testTimeout: 1_200_000,
    hookTimeout: 180_000,
    // One file at a time: each starts Node 24 workers for every function on a 2-core machine.
    fileParallelism: false,
    reporters: ['default', summary],
  },
});
