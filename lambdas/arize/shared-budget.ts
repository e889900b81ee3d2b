/**
 * One rate limit for every worker: a token bucket whose state lives in a shared store (in AWS,
 * one item of the ledger table, written with conditional updates), so concurrent Lambda
 * invocations together stay under Arize's limit instead of each assuming it has all of it.
 *
 * The bucket's rate is adaptive too, AIMD-style like the per-client controller it is fed by:
 * - demand (a lease that came back short) raises it — ×1.25 per 100 ms until the first throttling
 *   anywhere, then +1 % per 100 ms;
 * - a throttling episode any worker's controller observes (a 429) lowers it ×0.8, at most once
 *   per second across all workers, so N workers hearing the same 429 storm cut once, not N times.
 * Capacity is BURST_SECONDS of the rate: enough to smooth lease timing, too little to overrun.
 *
 * Workers lease a few tokens at a time (LEASE_SECONDS of the shared rate) so the store sees
 * about 1/LEASE_SECONDS writes per second per busy worker, not one per request.
 *
 * No AWS imports: the store is a port (the DynamoDB adapter is lambdas/adapters/shared-rate-limit.ts).
 */
import type { Clock } from './adaptive-rate.js';
import { realClock } from './adaptive-rate.js';

export interface SharedBucketState {
  tokens: number;
  /** Epoch milliseconds of the last refill (wall clock: workers run on different machines). */
  refilledAt: number;
  rate: number;
  slowStart: boolean;
  grownAt: number;
  decreasedAt: number;
  /** Tokens granted since windowStart, and the grant rate measured over the last full window. */
  windowStart: number;
  windowGranted: number;
  usedRate: number;
}

export interface VersionedState {
  state: SharedBucketState;
  version: number;
}

/** Where the bucket lives. `write` must be atomic and conditional on the version read. */
export interface SharedRateStore {
  read(): Promise<VersionedState | undefined>;
  /** Stores `state` as `version`; false (nothing written) when the stored version is no longer `expected`. */
  write(state: SharedBucketState, version: number, expected: number | undefined): Promise<boolean>;
}

export interface SharedBudgetOptions {
  /** Ceiling on the shared rate (req/s across all workers). */
  maxRate: number;
  initialRate?: number;
  minRate?: number;
}

export const SHARED_INITIAL_RATE = 10;
const SHARED_MIN_RATE = 0.5;
const BURST_SECONDS = 0.5;
const LEASE_SECONDS = 0.25;
const MAX_LEASE = 50;
const GROW_EVERY_MS = 100;
const USE_WINDOW_MS = 1_000;
/** The shared rate grows only while it is at most this multiple of the rate actually granted. */
const USE_HEADROOM = 2;
const SLOW_START_FACTOR = 1.25;
const PROBE_FACTOR = 1.01;
const DECREASE_FACTOR = 0.8;
const DECREASE_AT_MOST_EVERY_MS = 1_000;
/** Conditional-write races lost in a row before a lease gives up and waits a little. */
const MAX_RACES = 8;

export function initialState(options: SharedBudgetOptions, nowMs: number): SharedBucketState {
  const rate = Math.min(options.maxRate, options.initialRate ?? SHARED_INITIAL_RATE);
  return {
    tokens: capacityOf(rate),
    refilledAt: nowMs,
    rate,
    slowStart: true,
    grownAt: nowMs,
    decreasedAt: 0,
    windowStart: nowMs,
    windowGranted: 0,
    usedRate: 0,
  };
}

function capacityOf(rate: number): number {
  return Math.max(1, rate * BURST_SECONDS);
}

/**
 * Pure: refill, then take up to `wanted` tokens. When short, the demand may grow the rate
 * (bounded by the ceiling) and `waitMs` says when one token will be there.
 */
export function planLease(
  state: SharedBucketState,
  wanted: number,
  nowMs: number,
  options: SharedBudgetOptions,
): { next: SharedBucketState; granted: number; waitMs: number } {
  const elapsed = Math.max(0, nowMs - state.refilledAt);
  let rate = state.rate;
  let grownAt = state.grownAt;
  const tokens = Math.min(capacityOf(rate), state.tokens + (elapsed / 1000) * rate);
  const granted = Math.min(wanted, Math.floor(tokens));
  let { windowStart, windowGranted, usedRate } = state;
  windowGranted += granted;
  if (nowMs - windowStart >= USE_WINDOW_MS) {
    usedRate = (windowGranted * 1000) / (nowMs - windowStart);
    windowStart = nowMs;
    windowGranted = 0;
  }
  // Demand beyond supply: this lease came back short — and the rate is one the workers have been
  // using (leased tokens may sit unused behind a worker's own, slower controller: TCP's cwnd
  // validation again, over every worker).
  const validated = rate <= Math.max(USE_HEADROOM * usedRate, options.initialRate ?? SHARED_INITIAL_RATE);
  if (granted < wanted && validated && nowMs - grownAt >= GROW_EVERY_MS) {
    rate = Math.min(options.maxRate, state.slowStart ? rate * SLOW_START_FACTOR : Math.max(rate * PROBE_FACTOR, rate + 0.1));
    grownAt = nowMs;
  }
  const left = tokens - granted;
  const waitMs = granted > 0 ? 0 : Math.ceil(((1 - left) / rate) * 1000);
  return { next: { ...state, tokens: left, refilledAt: nowMs, rate, grownAt, windowStart, windowGranted, usedRate }, granted, waitMs };
}

/** Pure: a worker saw the server throttle. Undefined when another worker already cut recently. */
export function planDecrease(state: SharedBucketState, nowMs: number, options: SharedBudgetOptions): SharedBucketState | undefined {
  if (nowMs - state.decreasedAt < DECREASE_AT_MOST_EVERY_MS) return undefined;
  const rate = Math.max(options.minRate ?? SHARED_MIN_RATE, state.rate * DECREASE_FACTOR);
  return { ...state, rate, tokens: Math.min(state.tokens, capacityOf(rate)), slowStart: false, decreasedAt: nowMs, grownAt: nowMs };
}

/** One worker's view: leases tokens from the store and hands them out one per request. */
export class SharedRateBudget {
  private leased = 0;
  private lastRate: number;
  private fetching: Promise<void> | undefined;

  constructor(
    private readonly store: SharedRateStore,
    private readonly options: SharedBudgetOptions,
    /** Wall clock for the shared state (epoch ms) and the waits; tests pass a fake one. */
    private readonly clock: Clock = { now: () => Date.now(), sleep: realClock.sleep },
    private readonly random: () => number = Math.random,
  ) {
    this.lastRate = Math.min(options.maxRate, options.initialRate ?? SHARED_INITIAL_RATE);
  }

  /** The shared rate as last read (req/s across every worker). */
  get rate(): number {
    return this.lastRate;
  }

  /** Resolves when this worker may send one request. */
  async acquire(signal?: AbortSignal): Promise<void> {
    for (;;) {
      if (signal?.aborted) throw signal.reason as Error;
      if (this.leased > 0) {
        this.leased--;
        return;
      }
      this.fetching ??= this.lease(signal).finally(() => {
        this.fetching = undefined;
      });
      await this.fetching;
    }
  }

  /** Reports a throttling episode (the server said 429): the shared rate goes down once. */
  async throttled(): Promise<void> {
    for (let race = 0; race < MAX_RACES; race++) {
      const current = await this.store.read();
      if (!current) return;
      const next = planDecrease(current.state, this.clock.now(), this.options);
      if (!next) return;
      if (await this.store.write(next, current.version + 1, current.version)) {
        this.lastRate = next.rate;
        this.leased = 0;
        return;
      }
    }
  }

  private async lease(signal?: AbortSignal): Promise<void> {
    for (let race = 0; ; race++) {
      const now = this.clock.now();
      const current = await this.store.read();
      const state = current?.state ?? initialState(this.options, now);
      const wanted = Math.max(1, Math.min(MAX_LEASE, Math.ceil(state.rate * LEASE_SECONDS)));
      const plan = planLease(state, wanted, now, this.options);
      const version = (current?.version ?? 0) + 1;
      if (await this.store.write(plan.next, version, current?.version)) {
        this.lastRate = plan.next.rate;
        this.leased += plan.granted;
        if (plan.granted > 0) return;
        // Jitter: N workers told "one token in 20 ms" should not all ask again at the same instant.
        await this.clock.sleep(plan.waitMs * (1 + this.random() * 0.5), signal);
        continue;
      }
      // Lost a race to another worker: retry after a jittered nap that grows with the losses, so
      // many workers contending for one item spread out instead of colliding again.
      await this.clock.sleep(this.random() * Math.min(50, 5 * 2 ** Math.min(race, 4)), signal);
      if (race >= MAX_RACES) race = 0;
    }
  }
}
