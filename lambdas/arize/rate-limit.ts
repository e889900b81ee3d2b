/**
 * Client-side request rate limit: a token bucket with burst = rate and continuous refill,
 * implemented as GCRA (one "theoretical arrival time" instead of a token count and a timer).
 *
 * Why not p-queue's `intervalCap`/`interval`: in its default mode the window resets at fixed
 * boundaries, so up to 2× the cap can go out around a boundary, which a server-side token bucket
 * (Arize's, and our sandbox's) answers with 429s. Its `strict` sliding-window mode avoids that but
 * only hands capacity back a full interval after it was used, so it is not "burst = rate, refill
 * continuously" either. p-queue still provides the concurrency limit; this class only paces starts.
 *
 * Reservations are taken synchronously in call order, so waiters are served FIFO without polling.
 */
export class TokenBucket {
  private readonly emissionIntervalMs: number;
  private readonly burstToleranceMs: number;
  private theoreticalArrivalMs = Number.NEGATIVE_INFINITY;

  constructor(
    ratePerSecond: number,
    private readonly now: () => number = () => performance.now(),
    private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void> = defaultSleep,
  ) {
    if (!(ratePerSecond > 0) || !Number.isFinite(ratePerSecond)) {
      throw new RangeError(`ratePerSecond must be a positive finite number (got ${ratePerSecond})`);
    }
    const capacity = Math.max(1, Math.floor(ratePerSecond));
    this.emissionIntervalMs = 1000 / ratePerSecond;
    this.burstToleranceMs = (capacity - 1) * this.emissionIntervalMs;
  }

  /** Milliseconds the next request would wait if reserved now (0 when a token is available). */
  peekWaitMs(): number {
    const now = this.now();
    const tat = Math.max(this.theoreticalArrivalMs, now);
    return Math.max(0, tat - this.burstToleranceMs - now);
  }

  /** Reserves a token and resolves when the request may start. */
  async take(signal?: AbortSignal): Promise<void> {
    const now = this.now();
    const tat = Math.max(this.theoreticalArrivalMs, now);
    const allowedAt = tat - this.burstToleranceMs;
    this.theoreticalArrivalMs = tat + this.emissionIntervalMs;
    const waitMs = allowedAt - now;
    if (waitMs > 0) await this.sleep(waitMs, signal);
  }
}

export function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
