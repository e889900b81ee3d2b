/**
 * One rate limit for every worker: a token bucket whose state lives in a shared store (in AWS,
 * one item of the ledger table, written with conditional updates), so concurrent Lambda
 * invocations together stay under Arize's limit instead of each assuming it has all of it.
 *
 * Tokens are kept as GCRA (a "theoretical arrival time", `tat`, instead of a count and a refill
 * time), because then taking k tokens is ONE atomic conditional update with no read first:
 * `tat := max(tat, now) + k/rate` if the result is at most `now + burst`. Many workers never
 * race on read-modify-write; a refused take tells the worker to wait.
 *
 * The bucket's rate is adaptive, AIMD-style, fed by the workers' own controllers:
 * - demand (a take refused) raises it — ×1.25 per 100 ms until the first throttling anywhere,
 *   then +1 % per 100 ms — but only while the workers use at least half of it (a rate nobody
 *   uses is not validated: TCP's cwnd validation, across workers);
 * - a 429 any worker's controller sees lowers it ×0.8, at most once per second across all
 *   workers, so N workers hearing the same 429 storm cut once, not N times.
 * Rate changes are rare versioned (conditional) writes; losing one of those races is harmless.
 *
 * No AWS imports: the store is a port (the DynamoDB adapter is lambdas/adapters/shared-rate-limit.ts).
 */
import type { Clock } from './adaptive-rate.js';
import { realClock } from './adaptive-rate.js';

/** The adaptive part of the shared state (changed by versioned writes). */
export interface SharedRateFields {
  rate: number;
  slowStart: boolean;
  grownAt: number;
  decreasedAt: number;
  /** Start of the current usage window (epoch ms) and the grant rate measured over the last one. */
  windowStart: number;
  usedRate: number;
}

export interface SharedBucketState extends SharedRateFields {
  /** GCRA theoretical arrival time, epoch ms (wall clock: workers run on different machines). */
  tat: number;
  /** Tokens granted since windowStart (incremented atomically by every take). */
  windowGranted: number;
}

export interface VersionedState {
  state: SharedBucketState;
  version: number;
}

/** Where the bucket lives. Every write is atomic and conditional. */
export interface SharedRateStore {
  read(): Promise<VersionedState | undefined>;
  /** Creates the item unless it exists; false when another worker created it first. */
  create(state: SharedBucketState): Promise<boolean>;
  /**
   * Takes `count` tokens costing `costMs` of bucket time, atomically:
   * tat := max(tat, now) + costMs, only if that is ≤ now + burstMs. False when refused.
   */
  take(count: number, costMs: number, nowMs: number, burstMs: number): Promise<boolean>;
  /**
   * Replaces the rate fields if the version is still `expected` (false when someone else changed
   * them); `resetWindow` also zeroes windowGranted (a new usage window starts).
   */
  updateRate(fields: SharedRateFields, version: number, expected: number, resetWindow: boolean): Promise<boolean>;
}

export interface SharedBudgetOptions {
  /** Ceiling on the shared rate (req/s across all workers). */
  maxRate: number;
  initialRate?: number;
  minRate?: number;
}

export const SHARED_INITIAL_RATE = 10;
const SHARED_MIN_RATE = 0.5;
export const SHARED_BURST_SECONDS = 0.5;
const LEASE_SECONDS = 0.1;
const MAX_LEASE = 50;
const GROW_EVERY_MS = 100;
const SLOW_START_FACTOR = 1.25;
const PROBE_FACTOR = 1.01;
const DECREASE_FACTOR = 0.8;
const DECREASE_AT_MOST_EVERY_MS = 1_000;
const USE_WINDOW_MS = 1_000;
/** The shared rate grows only while it is at most this multiple of the rate actually granted. */
const USE_HEADROOM = 4;
/** How long a worker trusts the rate it last read before reading it again. */
const RATE_REFRESH_MS = 500;

export function initialState(options: SharedBudgetOptions, nowMs: number): SharedBucketState {
  const rate = Math.min(options.maxRate, options.initialRate ?? SHARED_INITIAL_RATE);
  return { tat: nowMs - SHARED_BURST_SECONDS * 1000, rate, slowStart: true, grownAt: nowMs, decreasedAt: 0, windowStart: nowMs, windowGranted: 0, usedRate: 0 };
}

/** Tokens a worker asks for at once: a tenth of a second of the shared rate. */
export function leaseSize(rate: number): number {
  return Math.max(1, Math.min(MAX_LEASE, Math.floor(rate * LEASE_SECONDS)));
}

/**
 * Pure GCRA step (what the store's `take` does atomically): the new tat, or undefined when the
 * bucket cannot give `count` tokens now.
 */
export function gcraTake(tat: number, count: number, rate: number, nowMs: number, burstMs = SHARED_BURST_SECONDS * 1000): number | undefined {
  const next = Math.max(tat, nowMs) + (count * 1000) / rate;
  return next <= nowMs + burstMs ? next : undefined;
}

/** Pure: a take was refused (demand beyond supply). New rate fields, or undefined for no change. */
export function planGrowth(state: SharedBucketState, nowMs: number, options: SharedBudgetOptions): SharedRateFields | undefined {
  let { windowStart, usedRate } = state;
  const windowRolled = nowMs - windowStart >= USE_WINDOW_MS;
  if (windowRolled) {
    usedRate = (state.windowGranted * 1000) / (nowMs - windowStart);
    windowStart = nowMs;
  }
  const validated = state.rate <= Math.max(USE_HEADROOM * usedRate, options.initialRate ?? SHARED_INITIAL_RATE);
  const grow = validated && nowMs - state.grownAt >= GROW_EVERY_MS && state.rate < options.maxRate;
  if (!grow && !windowRolled) return undefined;
  const rate = grow
    ? Math.min(options.maxRate, state.slowStart ? state.rate * SLOW_START_FACTOR : Math.max(state.rate * PROBE_FACTOR, state.rate + 0.1))
    : state.rate;
  return { rate, slowStart: state.slowStart, grownAt: grow ? nowMs : state.grownAt, decreasedAt: state.decreasedAt, windowStart, usedRate };
}

/** Pure: a worker saw the server throttle. Undefined when another worker already cut recently. */
export function planDecrease(state: SharedBucketState, nowMs: number, options: SharedBudgetOptions): SharedRateFields | undefined {
  if (nowMs - state.decreasedAt < DECREASE_AT_MOST_EVERY_MS) return undefined;
  const rate = Math.max(options.minRate ?? SHARED_MIN_RATE, state.rate * DECREASE_FACTOR);
  return { rate, slowStart: false, grownAt: nowMs, decreasedAt: nowMs, windowStart: state.windowStart, usedRate: state.usedRate };
}

/** One worker's view: leases tokens from the store and hands them out one per request. */
export class SharedRateBudget {
  private leased = 0;
  private known: VersionedState | undefined;
  private knownAt = Number.NEGATIVE_INFINITY;
  private fetching: Promise<void> | undefined;
  /** Requests of this worker waiting for a token: a lease never takes more than twice that. */
  private waiting = 0;

  constructor(
    private readonly store: SharedRateStore,
    private readonly options: SharedBudgetOptions,
    /** Wall clock for the shared state (epoch ms) and the waits; tests pass a fake one. */
    private readonly clock: Clock = { now: () => Date.now(), sleep: (ms, signal) => realClock.sleep(ms, signal) },
    private readonly random: () => number = Math.random,
  ) {}

  /** The shared rate as last read (req/s across every worker). */
  get rate(): number {
    return this.known?.state.rate ?? Math.min(this.options.maxRate, this.options.initialRate ?? SHARED_INITIAL_RATE);
  }

  /** Resolves when this worker may send one request. */
  async acquire(signal?: AbortSignal): Promise<void> {
    this.waiting++;
    try {
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
    } finally {
      this.waiting--;
    }
  }

  /** Reports a throttling episode (the server said 429): the shared rate goes down once. */
  async throttled(): Promise<void> {
    for (let attempt = 0; attempt < 4; attempt++) {
      const current = await this.refresh();
      if (!current) return;
      const next = planDecrease(current.state, this.clock.now(), this.options);
      if (!next) return;
      if (await this.store.updateRate(next, current.version + 1, current.version, false)) {
        this.knownAt = Number.NEGATIVE_INFINITY;
        return;
      }
    }
  }

  private async refresh(): Promise<VersionedState | undefined> {
    let current = await this.store.read();
    if (!current) {
      await this.store.create(initialState(this.options, this.clock.now()));
      current = await this.store.read();
    }
    this.known = current;
    this.knownAt = this.clock.now();
    return current;
  }

  private async lease(signal?: AbortSignal): Promise<void> {
    for (;;) {
      const now = this.clock.now();
      const known = this.known && now - this.knownAt < RATE_REFRESH_MS ? this.known : await this.refresh();
      if (!known) throw new Error('shared rate limit: the bucket item could not be created');
      const rate = known.state.rate;
      // Tokens leased and not used are lost to every worker: lease what this worker can use soon.
      const count = Math.min(leaseSize(rate), Math.max(1, 2 * this.waiting));
      if (await this.store.take(count, (count * 1000) / rate, this.clock.now(), SHARED_BURST_SECONDS * 1000)) {
        this.leased += count;
        return;
      }
      // Refused: learn when tokens will be there, and let the demand grow the rate (rarely written).
      const current = await this.refresh();
      if (!current) continue;
      const growth = planGrowth(current.state, this.clock.now(), this.options);
      if (growth) await this.store.updateRate(growth, current.version + 1, current.version, growth.windowStart !== current.state.windowStart);
      const readyIn = current.state.tat + (count * 1000) / current.state.rate - (this.clock.now() + SHARED_BURST_SECONDS * 1000);
      // Jitter: N workers told "tokens in 20 ms" should not all ask again at the same instant.
      await this.clock.sleep(Math.max(1, readyIn) * (1 + this.random() * 0.5), signal);
    }
  }
}
