/**
 * The shared bucket's pure rules (fast-check) and the lease protocol over an in-memory store with
 * the same atomic, conditional semantics as the DynamoDB adapter.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  gcraTake,
  initialState,
  planDecrease,
  planGrowth,
  SHARED_BURST_SECONDS,
  SharedRateBudget,
  type SharedBucketState,
  type SharedRateFields,
  type SharedRateStore,
  type VersionedState,
} from '../../lambdas/arize/shared-budget.js';

const options = { maxRate: 100 };
const BURST_MS = SHARED_BURST_SECONDS * 1000;

describe('shared bucket rules', () => {
  it('conserves tokens: whatever the take sizes and timing, grants never exceed burst + rate × elapsed', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ gapMs: fc.integer({ min: 0, max: 300 }), count: fc.integer({ min: 1, max: 10 }) }), { minLength: 1, maxLength: 200 }),
        (steps) => {
          const rate = 40;
          let tat = initialState({ maxRate: rate, initialRate: rate }, 0).tat;
          let now = 0;
          let granted = 0;
          for (const step of steps) {
            now += step.gapMs;
            const next = gcraTake(tat, step.count, rate, now);
            if (next === undefined) continue;
            expect(next).toBeLessThanOrEqual(now + BURST_MS);
            granted += step.count;
            tat = next;
          }
          expect(granted).toBeLessThanOrEqual(rate * SHARED_BURST_SECONDS + (rate * now) / 1000 + 1e-6);
        },
      ),
    );
  });

  it('grows under demand only while the workers use the rate, never past the ceiling', () => {
    const state: SharedBucketState = { ...initialState(options, 0), rate: 60, windowStart: 0, windowGranted: 10 };
    // 10 tokens used in the last second: 60 req/s is more than twice that ⇒ no growth.
    expect(planGrowth(state, 1_000, options)?.rate).toBe(60);
    // 40 used ⇒ the rate is validated and grows ×1.25 (slow start), capped at the ceiling.
    expect(planGrowth({ ...state, windowGranted: 40 }, 1_000, options)?.rate).toBe(75);
    expect(planGrowth({ ...state, rate: 90, windowGranted: 90 }, 1_000, options)?.rate).toBe(100);
  });

  it('cuts ×0.8 once per second however many workers report the same throttling', () => {
    const state: SharedBucketState = { ...initialState(options, 0), rate: 100 };
    const first = planDecrease(state, 5_000, options);
    expect(first?.rate).toBe(80);
    expect(first?.slowStart).toBe(false);
    const after: SharedBucketState = { ...state, ...first };
    expect(planDecrease(after, 5_500, options)).toBeUndefined();
    expect(planDecrease(after, 6_000, options)?.rate).toBe(64);
  });
});

/** The adapter's contract in memory: atomic conditional take, versioned rate updates. */
class MemoryStore implements SharedRateStore {
  current: VersionedState | undefined;
  read(): Promise<VersionedState | undefined> {
    return Promise.resolve(this.current && { state: { ...this.current.state }, version: this.current.version });
  }
  create(state: SharedBucketState): Promise<boolean> {
    if (this.current) return Promise.resolve(false);
    this.current = { state: { ...state }, version: 0 };
    return Promise.resolve(true);
  }
  take(count: number, costMs: number, nowMs: number, burstMs: number): Promise<boolean> {
    if (!this.current) return Promise.resolve(false);
    const next = Math.max(this.current.state.tat, nowMs) + costMs;
    if (next > nowMs + burstMs) return Promise.resolve(false);
    this.current.state.tat = next;
    this.current.state.windowGranted += count;
    return Promise.resolve(true);
  }
  updateRate(fields: SharedRateFields, version: number, expected: number, resetWindow: boolean): Promise<boolean> {
    if (this.current?.version !== expected) return Promise.resolve(false);
    this.current = { state: { ...this.current.state, ...fields, ...(resetWindow ? { windowGranted: 0 } : {}) }, version };
    return Promise.resolve(true);
  }
}

describe('SharedRateBudget leases', () => {
  it('workers sharing one store never hand out more than the bucket allows, and all get served', async () => {
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
    expect(acquired).toBeLessThanOrEqual(50 * SHARED_BURST_SECONDS + 50 * elapsedSeconds + 1e-6);
  });

  it('a 429 report lowers the shared rate once for everyone', async () => {
    const store = new MemoryStore();
    const clock = { t: 5_000_000, now: () => clock.t, sleep: (ms: number) => ((clock.t += ms), Promise.resolve()) };
    const a = new SharedRateBudget(store, { maxRate: 100, initialRate: 100 }, clock);
    const b = new SharedRateBudget(store, { maxRate: 100, initialRate: 100 }, clock);
    await a.acquire();
    await Promise.all([a.throttled(), b.throttled()]);
    expect(store.current?.state.rate).toBe(80);
  });
});
