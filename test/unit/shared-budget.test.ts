/**
 * The shared bucket's pure rules (fast-check) and the lease protocol over an in-memory store with
 * the same conditional-write contract as the DynamoDB adapter.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  initialState,
  planDecrease,
  planLease,
  SharedRateBudget,
  type SharedBucketState,
  type SharedRateStore,
  type VersionedState,
} from '../../lambdas/arize/shared-budget.js';

const options = { maxRate: 100 };

describe('shared bucket rules', () => {
  it('conserves tokens: whatever the lease sizes and timing, grants never exceed burst + rate × elapsed', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ gapMs: fc.integer({ min: 0, max: 300 }), wanted: fc.integer({ min: 1, max: 50 }) }), { minLength: 1, maxLength: 200 }),
        (steps) => {
          // A fixed rate (ceiling = start) isolates conservation from growth.
          const fixed = { maxRate: 40, initialRate: 40 };
          let state = initialState(fixed, 0);
          let now = 0;
          let granted = 0;
          for (const step of steps) {
            now += step.gapMs;
            const plan = planLease(state, step.wanted, now, fixed);
            expect(plan.granted).toBeGreaterThanOrEqual(0);
            expect(plan.granted).toBeLessThanOrEqual(step.wanted);
            expect(plan.next.tokens).toBeGreaterThanOrEqual(0);
            expect(plan.next.tokens).toBeLessThanOrEqual(40 * 0.5 + 1e-9);
            if (plan.granted === 0) expect(plan.waitMs).toBeGreaterThan(0);
            granted += plan.granted;
            state = plan.next;
          }
          expect(granted).toBeLessThanOrEqual(40 * 0.5 + (40 * now) / 1000 + 1e-6);
        },
      ),
    );
  });

  it('grows under demand (faster before any throttling), never past the ceiling', () => {
    let state = initialState(options, 0);
    let now = 0;
    for (let i = 0; i < 100; i++) {
      now += 100;
      state = planLease(state, 50, now, options).next;
    }
    expect(state.rate).toBe(100);
    const cut = planDecrease(state, now, options);
    expect(cut?.rate).toBe(80);
    expect(cut?.slowStart).toBe(false);
  });

  it('cuts once per second however many workers report the same throttling', () => {
    const state: SharedBucketState = { ...initialState(options, 0), rate: 100 };
    const first = planDecrease(state, 5_000, options);
    expect(first?.rate).toBe(80);
    expect(first && planDecrease(first, 5_500, options)).toBeUndefined();
    expect(first && planDecrease(first, 6_000, options)?.rate).toBe(64);
  });
});

/** The adapter's contract in memory: a write succeeds only against the version it read. */
class MemoryStore implements SharedRateStore {
  current: VersionedState | undefined;
  writes = 0;
  lostRaces = 0;
  read(): Promise<VersionedState | undefined> {
    return Promise.resolve(this.current && { state: { ...this.current.state }, version: this.current.version });
  }
  write(state: SharedBucketState, version: number, expected: number | undefined): Promise<boolean> {
    if (this.current?.version !== expected) {
      this.lostRaces++;
      return Promise.resolve(false);
    }
    this.current = { state: { ...state }, version };
    this.writes++;
    return Promise.resolve(true);
  }
}

describe('SharedRateBudget leases', () => {
  it('workers racing on one store never hand out more than the bucket allows', async () => {
    const store = new MemoryStore();
    const clock = { t: 1_000_000, now: () => clock.t, sleep: (ms: number) => ((clock.t += ms), Promise.resolve()) };
    const fixed = { maxRate: 50, initialRate: 50 };
    const workers = Array.from({ length: 8 }, () => new SharedRateBudget(store, fixed, clock, () => 0.5));
    const start = clock.t;
    let acquired = 0;
    await Promise.all(
      workers.map(async (worker) => {
        for (let i = 0; i < 30; i++) {
          await worker.acquire();
          acquired++;
        }
      }),
    );
    expect(acquired).toBe(240);
    const elapsedSeconds = (clock.t - start) / 1000;
    // Leased but unused tokens are lost, never duplicated: grants ≤ burst + rate × elapsed.
    expect(acquired).toBeLessThanOrEqual(50 * 0.5 + 50 * elapsedSeconds + 1e-6);
  });
});
