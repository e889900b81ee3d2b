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
 * The bucket's rate is adaptive (AIMD, as TCP), and measured rather than guessed when it can be:
 * - demand (a take refused) raises it — ×2 per 100 ms in slow start, then +1 % per 100 ms, and
 *   +0.2 % within 10 % of a measured limit — only while the workers use at least half of it (a
 *   rate nobody uses is not validated: TCP's cwnd validation, across workers);
 * - a server that lets a burst through hides its limit from any slow start, which then overshoots
 *   by far more than ×2. So when Arize throttles, each worker's own controller measures what it
 *   got accepted right after the server's bucket ran dry — its share of the limit (see
 *   adaptive-rate.ts) — and adds it to a sum on the item; the shares of one throttling episode,
 *   reported within SHARE_GATHER_MS of the first, add up to the limit, and the shared rate is set
 *   just under it — but, once a limit has been measured, never under half of what the workers were
 *   using (a sum that low is mostly shares reported too late to be counted);
 * - before those shares arrive, the first 429 anyone sees quarters the rate (leaving slow start);
 *   afterwards a 429 with no fresh measurement cuts ×0.8, at most once per second for all.
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
  /** Last limit the workers measured together (req/s; 0: none yet), and when (epoch ms). */
  measuredLimit: number;
  measuredAt: number;
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
  /**
   * Adds one worker's measured share to the episode's sum, atomically, and returns the sum: an
   * episode is the `gatherMs` after its first share; a share after that starts a new sum. Never
   * creates the bucket (no bucket yet: the share alone is returned).
   */
  addShare(share: number, nowMs: number, gatherMs: number): Promise<number>;
}

export interface SharedBudgetOptions {
  /** Ceiling on the shared rate (req/s across all workers). */
  maxRate: number;
  initialRate?: number;
  minRate?: number;
}

export const SHARED_INITIAL_RATE = 10;
const SHARED_MIN_RATE = 0.5;
export const SHARED_BURST_SECONDS = 0.1;
const LEASE_SECONDS = 0.1;
const MAX_LEASE = 50;
const GROW_EVERY_MS = 100;
const SLOW_START_FACTOR = 2;
const PROBE_FACTOR = 1.01;
/** The first 429 ends slow start two doublings back (see planDecrease). */
const SLOW_START_EXIT_DIVISOR = SLOW_START_FACTOR * SLOW_START_FACTOR;
/** Within NEAR_LIMIT of a measured limit, probing grows this much per step instead. */
const NEAR_LIMIT = 0.9;
const NEAR_LIMIT_PROBE_FACTOR = 1.002;
/** How long after a measurement probing stays slow. */
const PLATEAU_MS = 2_000;
/** The rate is set this far under a measured limit. */
const BELOW_LIMIT = 0.95;
/** A measured limit never sets the rate under this share of the rate the workers were using (see planMeasured). */
const MEASURED_FLOOR_OF_USE = 0.5;
/** Shares reported this close together are one throttling episode's. */
export const SHARE_GATHER_MS = 300;
const DECREASE_FACTOR = 0.8;
const DECREASE_AT_MOST_EVERY_MS = 1_000;
const USE_WINDOW_MS = 250;
/** A usage sample shorter than this is noise. */
const MIN_USE_SAMPLE_MS = 50;
/** The shared rate grows only while it is at most this multiple of the rate actually granted. */
const USE_HEADROOM = 2;
/** How long a worker trusts the rate it last read before reading it again. */
const RATE_REFRESH_MS = 100;
/** How often one worker reports throttling: the store allows one cut per second for all of them. */
export const SHARED_REPORT_EVERY_MS = DECREASE_AT_MOST_EVERY_MS;

export function initialState(options: SharedBudgetOptions, nowMs: number): SharedBucketState {
  const rate = Math.min(options.maxRate, options.initialRate ?? SHARED_INITIAL_RATE);
  return {
    tat: nowMs - SHARED_BURST_SECONDS * 1000,
    rate,
    slowStart: true,
    grownAt: nowMs,
    decreasedAt: 0,
    windowStart: nowMs,
    windowGranted: 0,
    usedRate: 0,
    measuredLimit: 0,
    measuredAt: 0,
  };
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
  const elapsed = nowMs - windowStart;
  // What the current window has granted so far counts once it is long enough to mean something.
  const grantedRate = elapsed >= MIN_USE_SAMPLE_MS ? (state.windowGranted * 1000) / elapsed : 0;
  const windowRolled = elapsed >= USE_WINDOW_MS;
  if (windowRolled) {
    usedRate = grantedRate;
    windowStart = nowMs;
  }
  const validated = state.rate <= Math.max(USE_HEADROOM * Math.max(usedRate, grantedRate), options.initialRate ?? SHARED_INITIAL_RATE);
  const grow = validated && nowMs - state.grownAt >= GROW_EVERY_MS && state.rate < options.maxRate;
  if (!grow && !windowRolled) return undefined;
  // Right after a measurement, creep near it (CUBIC's plateau); a measurement that time has not
  // confirmed (no 429 since) may have been low, so probing speeds up again.
  const nearLimit = state.measuredLimit > 0 && state.rate >= NEAR_LIMIT * state.measuredLimit && nowMs - state.measuredAt < PLATEAU_MS;
  const factor = state.slowStart ? SLOW_START_FACTOR : nearLimit ? NEAR_LIMIT_PROBE_FACTOR : PROBE_FACTOR;
  // Never more than twice what was used: behind a server's burst, every doubling that the burst
  // hides is paid for in 429s once it runs dry.
  const grown = Math.min(state.rate * factor, USE_HEADROOM * Math.max(usedRate, grantedRate, options.initialRate ?? SHARED_INITIAL_RATE));
  const rate = grow ? clampRate(Math.max(grown, state.rate + 0.1), options) : state.rate;
  return { ...rateFields(state), rate, grownAt: grow ? nowMs : state.grownAt, windowStart, usedRate };
}

/** Pure: a worker saw the server throttle. Undefined when there is nothing to change. */
export function planDecrease(state: SharedBucketState, nowMs: number, options: SharedBudgetOptions): SharedRateFields | undefined {
  // Slow start overshot (by far more than ×2 behind a server's burst): back two doublings at once;
  // the shares measured in this episode will set the rate properly.
  if (state.slowStart) return { ...rateFields(state), rate: clampRate(state.rate / SLOW_START_EXIT_DIVISOR, options), slowStart: false, grownAt: nowMs, decreasedAt: nowMs };
  if (nowMs - Math.max(state.decreasedAt, state.measuredAt) < DECREASE_AT_MOST_EVERY_MS) return undefined;
  return { ...rateFields(state), rate: clampRate(state.rate * DECREASE_FACTOR, options), grownAt: nowMs, decreasedAt: nowMs };
}

/**
 * Pure: the workers measured the limit together (`limit`: the sum of their shares so far in this
 * episode). Undefined when a fuller sum of the same episode is already applied.
 */
export function planMeasured(state: SharedBucketState, limit: number, nowMs: number, options: SharedBudgetOptions): SharedRateFields | undefined {
  if (!(limit > 0)) return undefined;
  if (nowMs - state.measuredAt < SHARE_GATHER_MS && state.measuredLimit >= limit) return undefined;
  // The sum counts only the workers that reported within the gather window; one far under what the workers were
  // using is mostly missing shares. Then halve what was used instead (TCP's decrease): a sum of 45 req/s from 4
  // workers using 300 against a limit of 200 set the rate to 43, and probing took 7 s to climb back (a 10 s run
  // for 1,000 deletes). Not on a fresh bucket's first episode, though: slow start overshot behind the server's
  // burst, and what it used says nothing about the limit.
  const floor = state.measuredLimit > 0 ? MEASURED_FLOOR_OF_USE * state.usedRate : 0;
  const rate = Math.max(BELOW_LIMIT * limit, floor);
  return { ...rateFields(state), rate: clampRate(rate, options), slowStart: false, grownAt: nowMs, decreasedAt: nowMs, measuredLimit: limit, measuredAt: nowMs };
}

function clampRate(rate: number, options: SharedBudgetOptions): number {
  return Math.min(options.maxRate, Math.max(options.minRate ?? SHARED_MIN_RATE, rate));
}

function rateFields(state: SharedBucketState): SharedRateFields {
  const { rate, slowStart, grownAt, decreasedAt, windowStart, usedRate, measuredLimit, measuredAt } = state;
  return { rate, slowStart, grownAt, decreasedAt, windowStart, usedRate, measuredLimit, measuredAt };
}

/** One worker's view: leases tokens from the store and hands them out one per request. */
export class SharedRateBudget {
  private leased = 0;
  private known: VersionedState | undefined;
  private knownAt = Number.NEGATIVE_INFINITY;
  private fetching: Promise<void> | undefined;
  /** Requests of this worker waiting for a token: a lease never takes more than twice that. */
  private waiting = 0;
  private sharedAt = Number.NEGATIVE_INFINITY;

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

  /**
   * This worker was just throttled: the tokens it holds were priced at a rate Arize refuses, so they
   * are dropped, and the next lease reads the rate afresh.
   */
  dropLeases(): void {
    this.leased = 0;
    this.knownAt = Number.NEGATIVE_INFINITY;
  }

  /** Reports a throttling episode (the server said 429): the shared rate goes down once. */
  throttled(): Promise<void> {
    return this.revise((state) => planDecrease(state, this.clock.now(), this.options));
  }

  /**
   * Reports this worker's share of the limit, measured by its own controller in a throttling
   * episode: the episode's shares add up to the limit, which sets the shared rate.
   */
  async shareMeasured(share: number): Promise<void> {
    if (!(share > 0) || !Number.isFinite(share)) return;
    // One share per worker per episode: a worker throttled again within it would be counted twice.
    const now = this.clock.now();
    if (now - this.sharedAt < SHARE_GATHER_MS) return;
    this.sharedAt = now;
    const limit = await this.store.addShare(share, this.clock.now(), SHARE_GATHER_MS);
    await this.revise((state) => planMeasured(state, limit, this.clock.now(), this.options));
  }

  /** A versioned read-plan-write of the rate fields, retried a few times when another worker wrote first. */
  private async revise(plan: (state: SharedBucketState) => SharedRateFields | undefined): Promise<void> {
    for (let attempt = 0; attempt < 4; attempt++) {
      const current = await this.refresh();
      if (!current) return;
      const next = plan(current.state);
      if (!next) return;
      if (await this.store.updateRate(next, current.version + 1, current.version, next.windowStart !== current.state.windowStart)) {
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
