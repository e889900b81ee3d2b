/**
 * Adaptive rate control: the client finds Arize's (unpublished) rate limit instead of being told.
 *
 * Shape borrowed from TCP congestion control, adapted to what an HTTP API tells us:
 * - **Slow start**: begin at a safe rate and double it every round trip while the pacer is what
 *   holds requests back (never while the caller or the concurrency ceiling is the bottleneck:
 *   an unused rate is not a validated one — TCP's "cwnd validation"). The overshoot past an
 *   unseen limit is bounded by the concurrency ceiling (requests in flight when the first 429
 *   returns), which is why that ceiling defaults to 32.
 * - **A 429 is an exact signal**, better than TCP's loss: every request is answered "applied" or
 *   "throttled". When the first 429 of an episode arrives, the server's bucket is empty, so the
 *   requests sent between that request's departure and the 429's arrival (one round trip) were
 *   accepted at exactly the server's refill rate. Their acceptance count over that window is an
 *   estimate of the limit (`estimatedLimit`), and the rate is set just under it. Small windows
 *   (low rates) carry too few samples; then the accepted rate over the last second is used.
 *   The rate is cut once per episode (requests already in flight answer 429 too; they are not
 *   new news), and the throttled request itself waits out Retry-After before it is retried.
 * - **Congestion avoidance** afterwards: +`probeGain` of the rate per second (per accepted
 *   response: +`probeGain` req/s), so the rate creeps back over the limit about once per
 *   1/probeGain seconds, where only (rate − limit) × RTT requests are throttled.
 * - **When throttling does not stop** (an episode whose window accepted nothing, or a
 *   Retry-After longer than HOLD_RETRY_AFTER_ABOVE_MS), every new request is held until the
 *   Retry-After: a fixed-window limiter would answer 429 to anything sooner.
 * - **5xx, timeouts, network errors and rising latency** are overload signals: multiplicative
 *   decrease (at most once per round trip), as a gradient limiter would do on latency. A 5xx,
 *   timeout or network error counts only while such failures are at least half of the recent
 *   answers: an overloaded server fails most requests, whereas a minority of failures is a flaky
 *   server that the retries absorb. Cutting for each of those collapsed the rate (×0.7 per failure
 *   against +0.1 req/s per success): with 15 % random 503s, 300 lookups took 194 s instead of 5 s
 *   (~1.5 req/s of an allowed 80), and a restarted `offboard serve` could not finish its backlog.
 * - **Concurrency** follows Little's law: rate × latency × 2 in flight (+2), under the ceiling,
 *   so a slowing server does not pile up requests.
 *
 * With `adaptive: false` the rate is fixed (token bucket with burst = rate), the old behaviour.
 *
 * Time comes from an injected Clock (a constructor parameter whose default is the real one), so
 * tests can drive the controller deterministically; production code never passes one.
 */

import { defaultSleep } from './rate-limit.js';

export interface Clock {
  /** Monotonic milliseconds. */
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const realClock: Clock = { now: () => performance.now(), sleep: defaultSleep };

export interface RateControlOptions {
  /** Off: a fixed token bucket at maxRate (burst = one second's worth). */
  adaptive: boolean;
  /** Ceiling on the request rate (req/s); the fixed rate when not adaptive. */
  maxRate: number;
  /** Ceiling on requests in flight. */
  maxConcurrency: number;
  /** Where slow start begins (req/s). */
  initialRate?: number;
  minRate?: number;
  /** Slow start: gain/RTT req/s added per accepted response (1: the rate doubles every round trip). */
  slowStartGain?: number;
  /** Congestion avoidance: fraction of the rate added per second. */
  probeGain?: number;
  /** Multiplicative decrease on 5xx/timeouts/network errors. */
  overloadBackoff?: number;
  /** Called when the rate changes. */
  onRateChange?(rate: number): void;
  /**
   * Measure only: detect throttling episodes, measure what got through (onLimitMeasured) and honour
   * the holds, but keep pacing at maxRate — for a client whose pace a shared budget sets.
   */
  passive?: boolean;
  /** Called with the limit measured at the end of each throttling episode (this client's view of it). */
  onLimitMeasured?(limit: number): void;
  /** Passive only: called where the controller would back off for overload (5xx, timeouts, rising latency). */
  onBackoff?(): void;
}

export const DEFAULT_INITIAL_RATE = 10;
const DEFAULT_MIN_RATE = 0.5;
const DEFAULT_SLOW_START_GAIN = 1;
const DEFAULT_PROBE_GAIN = 0.1;
const DEFAULT_OVERLOAD_BACKOFF = 0.7;
/** The rate is set this far under the measured limit after throttling. */
const BELOW_LIMIT = 0.95;
/** Within this share of the measured limit, probing slows to NEAR_LIMIT_PROBE_SHARE of probeGain. */
const NEAR_LIMIT = 0.9;
const NEAR_LIMIT_PROBE_SHARE = 0.2;
/** Fewer accepted+throttled samples than this in a 429 window: use the last second instead. */
const MIN_WINDOW_SAMPLES = 12;
/** A throttling window this big that let nothing through means "stop", not "slow down". */
const MIN_SILENCE_SAMPLES = 3;
/** Shortest pause after a first 429 while the requests in flight measure the limit. */
const MIN_EPISODE_HOLD_MS = 50;
/** A Retry-After longer than this holds every request, not just the throttled one. */
const HOLD_RETRY_AFTER_ABOVE_MS = 2_000;
/**
 * Latency is congestion when the short-term average is above twice the long-term one and at
 * least this much above the lowest seen: a loaded laptop or a slow first connection is not.
 */
const LATENCY_SLACK_MS = 50;
/** Latency is judged only after this many answers (the first ones include connection set-up). */
const LATENCY_MIN_SAMPLES = 20;
/** 5xx/timeouts/network errors are overload once they are at least this share of the recent answers. */
const OVERLOAD_SHARE = 0.5;
/** "Recent answers": those of the last second, and at least the last OVERLOAD_MIN_ANSWERS. */
const OVERLOAD_WINDOW_MS = 1_000;
const OVERLOAD_MIN_ANSWERS = 10;
/** The pacer releases requests up to this far ahead of their slot (timer granularity). */
const PACING_SLACK_MS = 8;

export type SendOutcome =
  | { kind: 'accepted'; latencyMs: number }
  | { kind: 'throttled'; retryAfterMs?: number }
  | { kind: 'overloaded' }
  | { kind: 'cancelled' };

export interface Ticket {
  readonly sentAt: number;
}

interface SentRecord {
  sentAt: number;
  settledAt?: number;
  accepted?: boolean;
  overloaded?: boolean;
}

interface Episode {
  from: number;
  to: number;
  pending: Set<SentRecord>;
  retryAfterMs: number | undefined;
}

interface Waiter {
  resolve: (ticket: Ticket) => void;
  reject: (reason: unknown) => void;
  signal: AbortSignal | undefined;
  onAbort: () => void;
}

export interface RateControlSnapshot {
  rate: number;
  concurrency: number;
  phase: 'fixed' | 'slow-start' | 'probing';
  /** Last limit measured from a throttling episode, when there was one. */
  estimatedLimit: number | undefined;
  latencyMs: number | undefined;
}

export class AdaptiveRateController {
  private currentRate: number;
  private readonly maxRate: number;
  private readonly minRate: number;
  private readonly slowStartGain: number;
  private readonly probeGain: number;
  private readonly overloadBackoff: number;
  private slowStart: boolean;
  private estimate: number | undefined;

  private readonly waiters: Waiter[] = [];
  private pumping = false;
  private theoreticalArrival = Number.NEGATIVE_INFINITY;
  private holdUntil = Number.NEGATIVE_INFINITY;
  /** While a throttling episode is being measured (bounded: a hung request must not stall all). */
  private episodeHoldUntil = Number.NEGATIVE_INFINITY;
  private lastPacedAt = Number.NEGATIVE_INFINITY;

  private readonly inFlight = new Set<SentRecord>();
  /** Settled sends of the last ~second, for the fallback estimate. */
  private recent: SentRecord[] = [];
  private episode: Episode | undefined;
  /** Sends before this instant belong to a congestion event already acted on. */
  private reactedUpTo = Number.NEGATIVE_INFINITY;
  private minLatency = Number.POSITIVE_INFINITY;
  private latencyEwma: number | undefined;
  private latencyBaseline: number | undefined;
  private latencySamples = 0;

  constructor(
    private readonly options: RateControlOptions,
    private readonly clock: Clock = realClock,
  ) {
    if (!(options.maxRate > 0) || !Number.isFinite(options.maxRate)) {
      throw new RangeError(`maxRate must be a positive finite number (got ${options.maxRate})`);
    }
    this.maxRate = options.maxRate;
    this.minRate = Math.min(options.minRate ?? DEFAULT_MIN_RATE, this.maxRate);
    this.slowStartGain = options.slowStartGain ?? DEFAULT_SLOW_START_GAIN;
    this.probeGain = options.probeGain ?? DEFAULT_PROBE_GAIN;
    this.overloadBackoff = options.overloadBackoff ?? DEFAULT_OVERLOAD_BACKOFF;
    this.slowStart = options.adaptive;
    this.currentRate = options.adaptive && options.passive !== true ? Math.min(this.maxRate, options.initialRate ?? DEFAULT_INITIAL_RATE) : this.maxRate;
  }

  get rate(): number {
    return this.currentRate;
  }

  /** Requests allowed in flight now. */
  get concurrency(): number {
    const ceiling = this.options.maxConcurrency;
    if (!this.options.adaptive || this.latencyEwma === undefined) return ceiling;
    const needed = Math.ceil(this.currentRate * (this.latencyEwma / 1000) * 2) + 2;
    return Math.max(1, Math.min(ceiling, needed));
  }

  snapshot(): RateControlSnapshot {
    return {
      rate: this.currentRate,
      concurrency: this.concurrency,
      phase: !this.options.adaptive ? 'fixed' : this.slowStart ? 'slow-start' : 'probing',
      estimatedLimit: this.estimate,
      latencyMs: this.latencyEwma,
    };
  }

  /** Resolves when the next request may be sent; the ticket must be settled with its outcome. */
  acquire(signal?: AbortSignal): Promise<Ticket> {
    return new Promise<Ticket>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason as Error);
        return;
      }
      const waiter: Waiter = {
        resolve,
        reject,
        signal,
        onAbort: () => {
          const index = this.waiters.indexOf(waiter);
          if (index >= 0) this.waiters.splice(index, 1);
          reject(signal?.reason as Error);
        },
      };
      signal?.addEventListener('abort', waiter.onAbort, { once: true });
      this.waiters.push(waiter);
      void this.pump();
    });
  }

  private emissionMs(): number {
    return 1000 / this.currentRate;
  }

  /** Burst the pacer tolerates: one second's worth when fixed, a timer tick's worth when adaptive. */
  private toleranceMs(): number {
    if (!this.options.adaptive) return (Math.max(1, Math.floor(this.currentRate)) - 1) * this.emissionMs();
    return PACING_SLACK_MS;
  }

  /** Releases waiters FIFO at the current rate; re-reads the rate after every wait. */
  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.waiters.length > 0) {
        const now = this.clock.now();
        const slot = Math.max(this.theoreticalArrival, now);
        const releaseAt = Math.max(slot - this.toleranceMs(), this.holdUntil, this.episodeHoldUntil);
        if (releaseAt > now) {
          this.lastPacedAt = now;
          // Short naps: a rate raised meanwhile takes effect without waiting out a long slot.
          await this.clock.sleep(Math.min(releaseAt - now, 50));
          continue;
        }
        const waiter = this.waiters.shift();
        if (!waiter) break;
        this.theoreticalArrival = slot + this.emissionMs();
        waiter.signal?.removeEventListener('abort', waiter.onAbort);
        const record: SentRecord = { sentAt: now };
        this.inFlight.add(record);
        waiter.resolve(record);
      }
    } finally {
      this.pumping = false;
    }
  }

  /** Reports how a sent request ended. */
  settle(ticket: Ticket, outcome: SendOutcome): void {
    const record = ticket as SentRecord;
    if (!this.inFlight.delete(record)) return;
    const now = this.clock.now();
    if (outcome.kind === 'cancelled') {
      this.episode?.pending.delete(record);
      this.maybeCloseEpisode(now);
      return;
    }
    record.settledAt = now;
    record.accepted = outcome.kind === 'accepted';
    record.overloaded = outcome.kind === 'overloaded';
    this.recent.push(record);
    this.trimRecent(now);
    if (!this.options.adaptive) return;

    switch (outcome.kind) {
      case 'accepted':
        this.onAccepted(record, outcome.latencyMs, now);
        break;
      case 'throttled':
        this.onThrottled(record, outcome.retryAfterMs, now);
        break;
      case 'overloaded':
        this.onOverloaded(record, now);
        break;
    }
    if (this.episode?.pending.delete(record)) this.maybeCloseEpisode(now);
  }

  private onAccepted(record: SentRecord, latencyMs: number, now: number): void {
    this.minLatency = Math.min(this.minLatency, latencyMs);
    this.latencySamples++;
    this.latencyEwma = this.latencyEwma === undefined ? latencyMs : this.latencyEwma * 0.8 + latencyMs * 0.2;
    this.latencyBaseline = this.latencyBaseline === undefined ? latencyMs : this.latencyBaseline * 0.98 + latencyMs * 0.02;
    const congested =
      this.latencySamples >= LATENCY_MIN_SAMPLES &&
      this.latencyEwma > 2 * this.latencyBaseline &&
      this.latencyEwma > this.minLatency + LATENCY_SLACK_MS;
    if (congested && record.sentAt >= this.reactedUpTo) {
      this.decrease(this.currentRate * 0.9, now);
      return;
    }
    if (congested || this.episode !== undefined) return;
    // Only a rate actually used has been tried; growing an unused one is a guess (and the
    // concurrency ceiling, not the rate, may be what holds the sends back).
    // Demand exceeds the rate only when a request is waiting for the pacer (or just was).
    if (this.waiters.length === 0 && now - this.lastPacedAt > 2 * this.emissionMs()) return;
    // Slow start doubles the rate every round trip (each answer adds 1/RTT), as TCP does: a
    // batch is over in seconds, so slower growth would waste the allowance. What bounds the
    // overshoot past an unseen limit is the concurrency ceiling: at most that many requests are
    // in flight when the first 429 comes back.
    const gain = this.slowStart ? (this.slowStartGain * 1000) / Math.max(1, latencyMs) : this.probingGain();
    this.setRate(this.currentRate + gain);
  }

  /**
   * Near a limit already measured, probe slowly (as CUBIC plateaus near its last maximum): every
   * crossing costs a few 429s, each waiting out a Retry-After of at least a second, so at low
   * limits fast probing cost more than 3 % of all requests. Far below it, probe at full speed.
   */
  private probingGain(): number {
    const nearLimit = this.estimate !== undefined && this.currentRate >= NEAR_LIMIT * this.estimate;
    return nearLimit ? this.probeGain * NEAR_LIMIT_PROBE_SHARE : this.probeGain;
  }

  private onThrottled(record: SentRecord, retryAfterMs: number | undefined, now: number): void {
    if (retryAfterMs !== undefined && retryAfterMs > HOLD_RETRY_AFTER_ABOVE_MS) this.hold(now + retryAfterMs);
    if (record.sentAt < this.reactedUpTo) {
      if (this.episode) this.episode.retryAfterMs = retryAfterMs ?? this.episode.retryAfterMs;
      return;
    }
    // First 429 of an episode: halve, and send nothing new until the requests already in flight
    // have answered (about one round trip, bounded) — they measure the limit (see the top), and
    // anything sent meanwhile at a rate still above it would only be throttled too.
    const pending = new Set<SentRecord>();
    for (const other of this.inFlight) if (other.sentAt >= record.sentAt) pending.add(other);
    this.episode = { from: record.sentAt, to: now, pending, retryAfterMs };
    this.slowStart = false;
    this.reactedUpTo = now;
    this.episodeHoldUntil = now + Math.max(MIN_EPISODE_HOLD_MS, 2 * (this.latencyEwma ?? MIN_EPISODE_HOLD_MS));
    this.setRate(Math.max(this.minRate, this.currentRate / 2));
    this.maybeCloseEpisode(now);
  }

  private onOverloaded(record: SentRecord, now: number): void {
    if (record.sentAt < this.reactedUpTo || !this.mostlyOverloaded(now)) return;
    this.decrease(this.currentRate * this.overloadBackoff, now);
  }

  /** Whether failures are at least OVERLOAD_SHARE of the recent answers (`recent` is in settle order). */
  private mostlyOverloaded(now: number): boolean {
    let answers = 0;
    let overloaded = 0;
    for (let index = this.recent.length - 1; index >= 0; index--) {
      const record = this.recent[index] as SentRecord;
      if (answers >= OVERLOAD_MIN_ANSWERS && (record.settledAt ?? now) < now - OVERLOAD_WINDOW_MS) break;
      answers++;
      if (record.overloaded === true) overloaded++;
    }
    return overloaded >= answers * OVERLOAD_SHARE;
  }

  private decrease(rate: number, now: number): void {
    this.slowStart = false;
    this.reactedUpTo = now;
    // A passive controller does not pace: whoever does (the shared budget) must back off instead.
    if (this.options.passive === true) this.options.onBackoff?.();
    this.setRate(Math.max(this.minRate, rate));
  }

  private maybeCloseEpisode(now: number): void {
    const episode = this.episode;
    if (!episode || episode.pending.size > 0) return;
    this.episode = undefined;
    this.episodeHoldUntil = Number.NEGATIVE_INFINITY;
    const windowSends = this.recent.filter((r) => r.sentAt >= episode.from && r.sentAt < episode.to);
    const accepted = windowSends.filter((r) => r.accepted).length;
    const windowSeconds = (episode.to - episode.from) / 1000;
    if (accepted === 0 && windowSends.length >= MIN_SILENCE_SAMPLES) {
      // Nothing got through even while throttled: the server wants silence, not a slower stream.
      this.hold(now + (episode.retryAfterMs ?? 1000));
      return;
    }
    if (accepted === 0) return; // too few requests in the window to learn anything; the halving stands
    let limit: number;
    // Measuring a share for a shared budget: the window's rate even from few samples. It is noisy
    // per worker but unbiased, and the budget adds every worker's share up; the last second's rate
    // would count a server's burst in.
    if (this.options.passive === true && windowSeconds > 0) {
      limit = accepted / windowSeconds;
    } else if (windowSends.length >= MIN_WINDOW_SAMPLES && windowSeconds > 0) {
      limit = accepted / windowSeconds;
    } else {
      const horizon = Math.max(1, Math.min(1000, now - (this.recent[0]?.sentAt ?? now)));
      const lastSecond = this.recent.filter((r) => r.accepted && r.sentAt >= now - horizon).length;
      limit = lastSecond / (horizon / 1000);
    }
    this.estimate = limit;
    this.options.onLimitMeasured?.(limit);
    // The halving already happened; the estimate may only bring the rate to just under the limit.
    this.setRate(Math.max(this.minRate, BELOW_LIMIT * limit));
  }

  private hold(until: number): void {
    this.holdUntil = Math.max(this.holdUntil, until);
  }

  private setRate(rate: number): void {
    if (this.options.passive === true) return;
    const next = Math.min(this.maxRate, Math.max(this.minRate, rate));
    if (next === this.currentRate) return;
    this.currentRate = next;
    this.options.onRateChange?.(next);
  }

  private trimRecent(now: number): void {
    if (this.recent.length < 256) return;
    const horizon = now - 2_000;
    const first = this.recent.findIndex((r) => r.sentAt >= horizon);
    if (first > 0) this.recent = this.recent.slice(first);
  }
}
