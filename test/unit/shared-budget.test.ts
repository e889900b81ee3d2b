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
  planMeasured,
  SHARE_GATHER_MS,
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

  it('grows under demand only while the workers use the rate, never past twice what they use or the ceiling', () => {
    const state: SharedBucketState = { ...initialState(options, 0), rate: 60, windowStart: 0, windowGranted: 10 };
    // 10 tokens used in the last second: 60 req/s is more than twice that ⇒ no growth.
    expect(planGrowth(state, 1_000, options)?.rate).toBe(60);
    // 40 used ⇒ validated; slow start doubles, but to at most twice the 40 req/s used (a server's burst
    // can hide the limit from a doubling that outruns demand).
    expect(planGrowth({ ...state, windowGranted: 40 }, 1_000, options)?.rate).toBe(80);
    expect(planGrowth({ ...state, rate: 90, windowGranted: 90 }, 1_000, options)?.rate).toBe(100);
  });

  it('the first throttling ends slow start two doublings back; later ones cut ×0.8 once per second for everyone', () => {
    const slowStart: SharedBucketState = { ...initialState(options, 0), rate: 100 };
    const exit = planDecrease(slowStart, 5_000, options);
    expect(exit?.rate).toBe(25);
    expect(exit?.slowStart).toBe(false);
    const probing: SharedBucketState = { ...slowStart, slowStart: false };
    const first = planDecrease(probing, 5_000, options);
    expect(first?.rate).toBe(80);
    const after: SharedBucketState = { ...probing, ...first };
    expect(planDecrease(after, 5_500, options)).toBeUndefined();
    expect(planDecrease(after, 6_000, options)?.rate).toBe(64);
  });

  it('a measured limit sets the rate just under it; a fuller sum of the same episode replaces a partial one', () => {
    const wide = { maxRate: 1_000 };
    const state: SharedBucketState = { ...initialState(wide, 0), rate: 400 };
    const partial = planMeasured(state, 60, 10_000, wide);
    expect(partial).toMatchObject({ rate: 57, slowStart: false, measuredLimit: 60, measuredAt: 10_000 });
    const measured: SharedBucketState = { ...state, ...partial };
    expect(planMeasured(measured, 100, 10_100, wide)?.rate).toBe(95);
    // Within the episode a smaller (stale) sum changes nothing; a new episode's may lower the rate.
    expect(planMeasured(measured, 50, 10_100, wide)).toBeUndefined();
    expect(planMeasured(measured, 50, 10_000 + SHARE_GATHER_MS, wide)?.rate).toBe(47.5);
    // Right after a measurement a 429 from the same episode does not cut again.
    expect(planDecrease({ ...measured, slowStart: false }, 10_500, wide)).toBeUndefined();
  });

  it('a measured sum far under what the workers were sending halves the rate instead (shares missing), except on a fresh bucket', () => {
    const wide = { maxRate: 1_000 };
    // Measured before, 300 req/s sent: four workers, one of whom reported 45 req/s within the gather window.
    const sending: SharedBucketState = { ...initialState(wide, 0), slowStart: false, rate: 315, usedRate: 300, measuredLimit: 190, measuredAt: 1_000 };
    expect(planMeasured(sending, 45, 20_000, wide)).toMatchObject({ rate: 150, measuredLimit: 45, measuredAt: 20_000 });
    // A credible sum still sets the rate just under it.
    expect(planMeasured(sending, 200, 20_000, wide)?.rate).toBe(190);
    // A fresh bucket's first episode follows slow start's overshoot: what it sent is no floor.
    const overshot: SharedBucketState = { ...initialState(wide, 0), slowStart: false, rate: 400, usedRate: 800 };
    expect(planMeasured(overshot, 120, 20_000, wide)?.rate).toBe(114);
  });

  it('probes slowly just under a limit measured in the last two seconds, then at the normal pace', () => {
    const wide = { maxRate: 1_000 };
    const measured: SharedBucketState = {
      ...initialState(wide, 0),
      slowStart: false,
      rate: 95,
      measuredLimit: 100,
      measuredAt: 10_000,
      grownAt: 10_000,
      windowStart: 10_000,
      windowGranted: 95,
    };
    expect(planGrowth(measured, 11_000, wide)?.rate).toBeCloseTo(95 * 1.002, 9);
    expect(planGrowth({ ...measured, windowStart: 11_000 }, 12_000, wide)?.rate).toBeCloseTo(95 * 1.01, 9);
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
  private shareSum = 0;
  private shareAt = Number.NEGATIVE_INFINITY;
  addShare(share: number, nowMs: number, gatherMs: number): Promise<number> {
    if (this.shareAt >= nowMs - gatherMs) this.shareSum += share;
    else [this.shareSum, this.shareAt] = [share, nowMs];
    return Promise.resolve(this.shareSum);
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
    expect(store.current?.state.rate).toBe(25); // slow start left once, not twice
    clock.t += 1_000;
    await Promise.all([a.throttled(), b.throttled()]);
    expect(store.current?.state.rate).toBe(20);
  });

  it('the shares the workers measure in one episode add up to the shared rate, each worker counted once', async () => {
    const store = new MemoryStore();
    const clock = { t: 9_000_000, now: () => clock.t, sleep: (ms: number) => ((clock.t += ms), Promise.resolve()) };
    const workers = Array.from({ length: 4 }, () => new SharedRateBudget(store, { maxRate: 1_000, initialRate: 400 }, clock));
    await workers[0]!.acquire();
    await workers[0]!.throttled();
    for (const worker of workers) {
      clock.t += 20;
      await worker.shareMeasured(50);
    }
    // A worker throttled again within the episode does not add its share twice.
    await workers[1]!.shareMeasured(50);
    expect(store.current?.state).toMatchObject({ measuredLimit: 200, slowStart: false });
    expect(store.current?.state.rate).toBeCloseTo(190, 9);
    // Nonsense from a controller (no time measured) never reaches the store.
    await workers[2]!.shareMeasured(Number.POSITIVE_INFINITY);
    expect(store.current?.state.measuredLimit).toBe(200);
  });
});
