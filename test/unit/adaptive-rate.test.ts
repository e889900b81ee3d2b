/**
 * The adaptive rate controller driven by a fake clock: every decision is a function of the
 * outcomes reported and the (fake) time, so these assert exact rates, not timings.
 */
import { describe, expect, it } from 'vitest';
import { AdaptiveRateController, type Clock, type RateControlOptions } from '../../lambdas/arize/adaptive-rate.js';

function fakeClock(): Clock & { t: number; advance(ms: number): void } {
  const clock = {
    t: 0,
    now: () => clock.t,
    // A pacing wait passes instantly: time only moves when the controller or the test says so.
    sleep: (ms: number) => {
      clock.t += ms;
      return Promise.resolve();
    },
    advance: (ms: number) => {
      clock.t += ms;
    },
  };
  return clock;
}

function controller(options: Partial<RateControlOptions> = {}) {
  const clock = fakeClock();
  const changes: number[] = [];
  const control = new AdaptiveRateController(
    { adaptive: true, maxRate: 5_000, maxConcurrency: 32, onRateChange: (rate) => changes.push(rate), ...options },
    clock,
  );
  return { clock, control, changes };
}

/**
 * A throttling episode seen 40 ms (one round trip) after the first of `sent` requests went out: the
 * first is answered 429, the next `accepted` get through, the rest are 429 too.
 */
async function throttlingEpisode(control: AdaptiveRateController, clock: ReturnType<typeof fakeClock>, sent: number, accepted: number): Promise<void> {
  const tickets = [];
  for (let i = 0; i < sent; i++) tickets.push(await control.acquire());
  clock.t = tickets[0]!.sentAt + 40;
  control.settle(tickets[0]!, { kind: 'throttled', retryAfterMs: 1_000 });
  tickets.slice(1, 1 + accepted).forEach((ticket) => control.settle(ticket, { kind: 'accepted', latencyMs: 40 }));
  tickets.slice(1 + accepted).forEach((ticket) => control.settle(ticket, { kind: 'throttled', retryAfterMs: 1_000 }));
}

describe('adaptive rate control', () => {
  it('starts at a safe 10 req/s and doubles about every round trip while the rate is used', async () => {
    const { control } = controller();
    expect(control.rate).toBe(10);
    // A backlog: requests go out as fast as the pacer allows, each answered after 50 ms.
    for (let i = 0; i < 10; i++) {
      const ticket = await control.acquire();
      control.settle(ticket, { kind: 'accepted', latencyMs: 50 });
    }
    // Each answer to a paced request adds 1/RTT = 20 req/s; the first went out unpaced ⇒ 10 + 9 × 20.
    expect(control.rate).toBeCloseTo(190, 5);
    expect(control.snapshot().phase).toBe('slow-start');
  });

  it('does not grow a rate nobody uses (sparse, caller-limited requests)', async () => {
    const { clock, control } = controller();
    for (let i = 0; i < 20; i++) {
      clock.advance(1_000); // one request per second, far below the 10 req/s allowed
      const ticket = await control.acquire();
      clock.advance(40);
      control.settle(ticket, { kind: 'accepted', latencyMs: 40 });
    }
    expect(control.rate).toBe(10);
  });

  it('never exceeds the ceiling (--rate)', async () => {
    const { clock, control } = controller({ maxRate: 25 });
    for (let i = 0; i < 50; i++) {
      const ticket = await control.acquire();
      clock.advance(10);
      control.settle(ticket, { kind: 'accepted', latencyMs: 10 });
    }
    expect(control.rate).toBe(25);
  });

  it('on the first 429 sets the rate just under the limit measured from the requests then in flight', async () => {
    const { clock, control } = controller({ initialRate: 1_000, maxRate: 1_000 });
    const tickets = [];
    for (let i = 0; i < 20; i++) tickets.push(await control.acquire()); // sent over ~20 ms
    const sentFirst = tickets[0]!.sentAt;
    clock.t = sentFirst + 40; // the first answer, a 429, arrives one 40 ms round trip later
    control.settle(tickets[0]!, { kind: 'throttled', retryAfterMs: 1_000 });
    // Halved at once to stop the damage; one decision per episode however many 429s follow.
    expect(control.rate).toBe(500);
    tickets.slice(1, 9).forEach((ticket) => control.settle(ticket, { kind: 'accepted', latencyMs: 40 }));
    tickets.slice(9, 19).forEach((ticket) => control.settle(ticket, { kind: 'throttled', retryAfterMs: 1_000 }));
    expect(control.rate).toBe(500);
    control.settle(tickets[19]!, { kind: 'throttled', retryAfterMs: 1_000 });
    // 8 accepted in the 40 ms window after the server's bucket ran dry ⇒ limit 200 req/s ⇒ 95 %.
    expect(control.snapshot().estimatedLimit).toBeCloseTo(200, 5);
    expect(control.rate).toBeCloseTo(190, 5);
    expect(control.snapshot().phase).toBe('probing');
  });

  it('a sequential caller (one request per round trip) does not grow the rate past what it uses', async () => {
    const { clock, control } = controller();
    for (let i = 0; i < 30; i++) {
      const ticket = await control.acquire();
      clock.advance(50);
      control.settle(ticket, { kind: 'accepted', latencyMs: 50 });
    }
    // 20 req/s is all one-at-a-time 50 ms requests can use; the rate stays within reach of it.
    expect(control.rate).toBeLessThanOrEqual(40);
  });

  it('probes upward gently after a 429 (+0.1 req/s per answer: +10 % of the rate per second)', async () => {
    const { clock, control } = controller({ initialRate: 100 });
    const first = await control.acquire();
    clock.advance(40);
    control.settle(first, { kind: 'throttled' });
    expect(control.rate).toBe(50);
    const before = control.rate;
    for (let i = 0; i < 50; i++) {
      const ticket = await control.acquire();
      clock.advance(1);
      control.settle(ticket, { kind: 'accepted', latencyMs: 40 });
    }
    expect(control.rate).toBeGreaterThan(before + 4);
    expect(control.rate).toBeLessThanOrEqual(before + 50 * 0.1 + 1e-9);
  });

  it('near a limit it has measured, probes at a fifth of the speed (each crossing costs 429s)', async () => {
    const { clock, control } = controller({ initialRate: 1_000, maxRate: 1_000 });
    await throttlingEpisode(control, clock, 20, 8);
    expect(control.rate).toBeCloseTo(190, 5); // 95 % of the 200 req/s measured
    clock.advance(2_000);
    for (let i = 0; i < 50; i++) {
      const ticket = await control.acquire();
      clock.advance(1);
      control.settle(ticket, { kind: 'accepted', latencyMs: 40 });
    }
    // At most 50 answers at 0.1 × 0.2 req/s each: +1 req/s, where far below the limit it would be +5.
    expect(control.rate).toBeGreaterThan(190.5);
    expect(control.rate).toBeLessThanOrEqual(191 + 1e-9);
  });

  it('passive (paced by a shared budget): keeps its rate, measures its share from few samples and reports it', async () => {
    const shares: number[] = [];
    const { clock, control, changes } = controller({ passive: true, maxRate: 1_000, onLimitMeasured: (share) => shares.push(share) });
    expect(control.rate).toBe(1_000);
    // 2 accepted in the 40 ms window: a worker's share of 50 req/s, though too few samples for an own limit.
    await throttlingEpisode(control, clock, 6, 2);
    expect(shares).toHaveLength(1);
    expect(shares[0]).toBeCloseTo(50, 5);
    expect(control.rate).toBe(1_000);
    expect(changes).toEqual([]);
  });

  it('holds every request for Retry-After when a throttling window let nothing through', async () => {
    const { clock, control } = controller({ initialRate: 100 });
    const sent = [await control.acquire(), await control.acquire(), await control.acquire()];
    clock.advance(40);
    for (const ticket of sent) control.settle(ticket, { kind: 'throttled', retryAfterMs: 1_000 });
    const heldFrom = clock.t;
    const next = await control.acquire();
    expect(next.sentAt - heldFrom).toBeGreaterThanOrEqual(1_000);
  });

  it('a lone 429 (one request in flight) only halves the rate: too little evidence to stop everything', async () => {
    const { clock, control } = controller({ initialRate: 100 });
    const only = await control.acquire();
    clock.advance(40);
    control.settle(only, { kind: 'throttled', retryAfterMs: 1_000 });
    expect(control.rate).toBe(50);
    const settledAt = clock.t;
    const next = await control.acquire();
    expect(next.sentAt - settledAt).toBeLessThan(100);
  });

  it('holds everything for a long Retry-After at once', async () => {
    const { clock, control } = controller({ initialRate: 100 });
    const a = await control.acquire();
    const b = await control.acquire();
    clock.advance(40);
    control.settle(a, { kind: 'throttled', retryAfterMs: 30_000 });
    const heldFrom = clock.t;
    const next = await control.acquire();
    expect(next.sentAt - heldFrom).toBeGreaterThanOrEqual(30_000);
    control.settle(b, { kind: 'cancelled' });
  });

  it('backs off multiplicatively on 5xx/timeouts, once per round trip', async () => {
    const { clock, control } = controller({ initialRate: 100 });
    const tickets = [await control.acquire(), await control.acquire(), await control.acquire()];
    clock.advance(40);
    for (const ticket of tickets) control.settle(ticket, { kind: 'overloaded' });
    expect(control.rate).toBeCloseTo(70, 5);
    const later = await control.acquire();
    clock.advance(40);
    control.settle(later, { kind: 'overloaded' });
    expect(control.rate).toBeCloseTo(49, 5);
  });

  it('passive: where it would back off for overload, it keeps its rate and tells whoever paces', async () => {
    let backoffs = 0;
    const { clock, control } = controller({ passive: true, maxRate: 100, onBackoff: () => backoffs++ });
    const tickets = [await control.acquire(), await control.acquire(), await control.acquire()];
    clock.advance(40);
    for (const ticket of tickets) control.settle(ticket, { kind: 'overloaded' });
    expect(backoffs).toBe(1); // once per round trip, as the active controller's cut
    expect(control.rate).toBe(100);
  });

  it('a minority of 5xx (a flaky server, 15 % random 503s) does not cut the rate: the retries absorb them', async () => {
    const { clock, control } = controller({ initialRate: 80, maxRate: 80 });
    // Deterministic: every 7th answer fails (~14 %), spread as random failures would be.
    for (let i = 0; i < 400; i++) {
      const ticket = await control.acquire();
      clock.advance(2);
      control.settle(ticket, i % 7 === 3 ? { kind: 'overloaded' } : { kind: 'accepted', latencyMs: 20 });
    }
    // Before the fix each failure cut ×0.7 against +0.1 req/s per success: the rate sank to ~1.5 req/s.
    expect(control.rate).toBe(80);
  });

  it('cuts again once failures become most of the recent answers', async () => {
    const { clock, control } = controller({ initialRate: 80, maxRate: 80 });
    for (let i = 0; i < 20; i++) {
      const ticket = await control.acquire();
      clock.advance(2);
      control.settle(ticket, { kind: 'accepted', latencyMs: 20 });
    }
    expect(control.rate).toBe(80);
    // Three failures in four answers for two seconds: the successes before them leave the window.
    for (let i = 0; i < 60; i++) {
      const ticket = await control.acquire();
      clock.advance(30);
      control.settle(ticket, i % 4 === 0 ? { kind: 'accepted', latencyMs: 20 } : { kind: 'overloaded' });
    }
    expect(control.rate).toBeLessThan(80 * 0.7 ** 3);
  });

  it('backs off when latency climbs well above its baseline', async () => {
    const { clock, control } = controller({ initialRate: 50, maxRate: 50 });
    for (let i = 0; i < 30; i++) {
      const ticket = await control.acquire();
      clock.advance(20);
      control.settle(ticket, { kind: 'accepted', latencyMs: 40 });
    }
    expect(control.rate).toBe(50);
    for (let i = 0; i < 10; i++) {
      const ticket = await control.acquire();
      clock.advance(400);
      control.settle(ticket, { kind: 'accepted', latencyMs: 400 });
    }
    expect(control.rate).toBeLessThan(50);
    expect(control.snapshot().phase).toBe('probing');
  });

  it('paces FIFO at the current rate: never more than rate·t + a timer tick of slack', async () => {
    const { control } = controller({ initialRate: 20, maxRate: 20 });
    const starts: number[] = [];
    for (let i = 0; i < 40; i++) starts.push((await control.acquire()).sentAt);
    for (let i = 0; i < starts.length; i++) {
      for (let j = i + 1; j < starts.length; j++) {
        const seconds = (starts[j]! - starts[i]!) / 1000;
        expect(j - i + 1).toBeLessThanOrEqual(20 * seconds + 2);
      }
    }
  });

  it('in fixed mode keeps the rate whatever happens (burst = one second)', async () => {
    const { clock, control } = controller({ adaptive: false, maxRate: 5 });
    const burst = [];
    for (let i = 0; i < 5; i++) burst.push(await control.acquire());
    expect(clock.t).toBe(0);
    clock.advance(40);
    for (const ticket of burst) control.settle(ticket, { kind: 'throttled' });
    expect(control.rate).toBe(5);
    expect(control.concurrency).toBe(32);
  });

  it('sizes concurrency by Little\'s law under the ceiling', async () => {
    const { clock, control } = controller({ initialRate: 100, maxRate: 100, maxConcurrency: 8 });
    const ticket = await control.acquire();
    clock.advance(10);
    control.settle(ticket, { kind: 'accepted', latencyMs: 10 });
    expect(control.concurrency).toBe(4); // 100 req/s × 10 ms × 2 + 2
    const slow = await control.acquire();
    clock.advance(500);
    control.settle(slow, { kind: 'accepted', latencyMs: 500 });
    expect(control.concurrency).toBe(8);
  });

  it('an aborted wait leaves the queue and rejects', async () => {
    const { control } = controller({ initialRate: 1, maxRate: 1, adaptive: false });
    await control.acquire();
    const abort = new AbortController();
    abort.abort(new Error('stop'));
    await expect(control.acquire(abort.signal)).rejects.toThrow('stop');
  });
});
