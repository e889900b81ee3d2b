/**
 * Effective dates across time zones and DST changes: the interpreted instant is the exact end of the local day
 * (never a millisecond early), checked against Intl's own wall clock, over random dates and zones with
 * spring-forward/fall-back, half-hour DST (Lord_Howe) and 45-minute offsets (Chatham).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { matching } from '../support/hr.js';
import { instantAtWallClock, interpretEffectiveDate, localDateOf, wallClockMs } from '../../lambdas/core/hr/effective-date.js';

const ZONES = [
  'UTC',
  'America/Los_Angeles',
  'America/New_York',
  'Europe/London',
  'Europe/Berlin',
  'Australia/Lord_Howe',
  'Pacific/Chatham',
  'America/Santiago',
  'Asia/Kolkata',
  'Pacific/Kiritimati',
  'Pacific/Pago_Pago',
  'America/Havana',
] as const;

const dateArb = fc
  .date({ min: new Date('1995-01-01T00:00:00Z'), max: new Date('2045-12-31T00:00:00Z'), noInvalidDate: true })
  .map((d) => d.toISOString().slice(0, 10));

function nextDay(date: string): string {
  const [y, m, d] = date.split('-').map(Number);
  return new Date(Date.UTC(y!, m! - 1, d! + 1)).toISOString().slice(0, 10);
}

describe('interpretEffectiveDate', () => {
  it('a date-only value is the first instant of the next local day, for every zone and date (property)', () => {
    fc.assert(
      fc.property(dateArb, fc.constantFrom(...ZONES), (date, timeZone) => {
        const result = interpretEffectiveDate(date, { timeZone, graceMinutes: 0 });
        if (!result.ok) throw new Error(result.reason);
        const instant = Date.parse(result.value.effectiveAt);
        // At the instant the person's clock already shows the next day; one millisecond before, still the day.
        expect(localDateOf(instant, timeZone)).toBe(nextDay(date));
        expect(localDateOf(instant - 1, timeZone)).toBe(date);
        // And the clock does not fall back into the day afterwards (repeated hour across midnight).
        for (const later of [1, 30 * 60_000, 3_600_000, 2 * 3_600_000]) expect(localDateOf(instant + later, timeZone) >= nextDay(date)).toBe(true);
        expect(result.value.original).toBe(date);
      }),
      { numRuns: 600 },
    );
  });

  it('DST days: Los Angeles spring-forward and fall-back, London, Lord Howe, Chatham', () => {
    const cases: [string, string, string][] = [
      // Day before spring-forward (2026-03-08 02:00 PST→PDT): midnight is still PST (UTC-8).
      ['2026-03-07', 'America/Los_Angeles', '2026-03-08T08:00:00.000Z'],
      // The spring-forward day ends at midnight PDT (UTC-7).
      ['2026-03-08', 'America/Los_Angeles', '2026-03-09T07:00:00.000Z'],
      // Fall-back day (2026-11-01): ends at midnight PST.
      ['2026-11-01', 'America/Los_Angeles', '2026-11-02T08:00:00.000Z'],
      ['2026-03-29', 'Europe/London', '2026-03-29T23:00:00.000Z'],
      ['2026-10-25', 'Europe/London', '2026-10-26T00:00:00.000Z'],
      // Lord Howe: +10:30 standard, +11:00 in summer (DST ends 2026-04-05 02:00 local).
      ['2026-04-05', 'Australia/Lord_Howe', '2026-04-05T13:30:00.000Z'],
      ['2026-01-15', 'Australia/Lord_Howe', '2026-01-15T13:00:00.000Z'],
      // Chatham: +13:45 in (southern) summer.
      ['2026-01-15', 'Pacific/Chatham', '2026-01-15T10:15:00.000Z'],
    ];
    for (const [date, timeZone, expected] of cases) {
      const result = interpretEffectiveDate(date, { timeZone, graceMinutes: 0 });
      expect(result).toEqual({ ok: true, value: { effectiveAt: expected, original: date } });
    }
  });

  it('a midnight that does not exist (Santiago spring-forward at 00:00) ends the day at the transition', () => {
    // Chile moved clocks from 00:00 to 01:00 on 2026-09-06: 2026-09-05 ends at the jump, 04:00Z.
    const result = interpretEffectiveDate('2026-09-05', { timeZone: 'America/Santiago', graceMinutes: 0 });
    expect(result.ok && result.value.effectiveAt).toBe('2026-09-06T04:00:00.000Z');
  });

  it('a local wall time is never placed before the local person reaches it (property, gaps and repeats)', () => {
    fc.assert(
      fc.property(dateArb, fc.integer({ min: 0, max: 24 * 60 - 1 }), fc.constantFrom(...ZONES), (date, minuteOfDay, timeZone) => {
        const [y, m, d] = date.split('-').map(Number);
        const wall = Date.UTC(y!, m! - 1, d, 0, minuteOfDay);
        const instant = instantAtWallClock(wall, timeZone);
        expect(wallClockMs(instant, timeZone)).toBeGreaterThanOrEqual(wall);
        expect(wallClockMs(instant - 1, timeZone)).toBeLessThan(wall);
      }),
      { numRuns: 600 },
    );
  });

  it('keeps explicit instants, applies the grace, uses the event zone over the configured one', () => {
    expect(interpretEffectiveDate('2026-12-04T17:00:00+01:00', { timeZone: 'America/Los_Angeles', graceMinutes: 0 })).toEqual({
      ok: true,
      value: { effectiveAt: '2026-12-04T16:00:00.000Z', original: '2026-12-04T17:00:00+01:00' },
    });
    const graced = interpretEffectiveDate('2026-12-04', { timeZone: 'UTC', graceMinutes: 90 });
    expect(graced.ok && graced.value.effectiveAt).toBe('2026-12-05T01:30:00.000Z');
    const zoned = interpretEffectiveDate('2026-12-04', { timeZone: 'UTC', graceMinutes: 0 }, 'Asia/Tokyo');
    expect(zoned.ok && zoned.value.effectiveAt).toBe('2026-12-04T15:00:00.000Z');
    const local = interpretEffectiveDate('2026-12-04T17:30', { timeZone: 'America/New_York', graceMinutes: 0 });
    expect(local.ok && local.value.effectiveAt).toBe('2026-12-04T22:30:00.000Z');
  });

  it('names what is wrong with a bad value or zone', () => {
    expect(interpretEffectiveDate('2026-02-30', { timeZone: 'UTC', graceMinutes: 0 })).toEqual({ ok: false, reason: "effective date '2026-02-30' is not a calendar date" });
    expect(interpretEffectiveDate('next friday', { timeZone: 'UTC', graceMinutes: 0 })).toMatchObject({ ok: false, reason: matching(/YYYY-MM-DD/) });
    expect(interpretEffectiveDate('2026-12-04', { timeZone: 'Mars/Olympus', graceMinutes: 0 })).toMatchObject({ ok: false, reason: matching(/Mars\/Olympus/) });
  });
});
