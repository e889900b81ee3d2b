/**
 * Effective dates as HR means them. "Last day 2026-12-04" means the person may work until the end of that day
 * where they work, so a date-only value becomes the first instant of the next local day in the employee's (or
 * the configured) IANA time zone, plus an optional grace. Deleting earlier would be a wrong deletion.
 *
 * Pure and Temporal-free: the zone's UTC offset at an instant comes from Intl.DateTimeFormat, and the local→UTC
 * step solves around the (at most one) offset transition near the wanted wall time, so DST gaps, repeated hours,
 * half-hour zones (Australia/Lord_Howe) and 45-minute zones (Pacific/Chatham) come out right.
 */

export interface EffectiveDatePolicy {
  /** IANA zone used when the event does not name one. */
  timeZone: string;
  /** Added to every interpreted instant (never subtracted: an early deletion is the worst bug). */
  graceMinutes: number;
}

export const DEFAULT_EFFECTIVE_DATE_POLICY: EffectiveDatePolicy = { timeZone: 'UTC', graceMinutes: 0 };
export const MAX_GRACE_MINUTES = 7 * 24 * 60;

export interface InterpretedEffectiveDate {
  /** ISO-8601 UTC instant the workflow waits for. */
  effectiveAt: string;
  /** The value as the HR system sent it, kept for the ledger and auditors. */
  original: string;
}

export type InterpretResult = { ok: true; value: InterpretedEffectiveDate } | { ok: false; reason: string };

const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;
const LOCAL_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3})\d*)?)?$/;
const ZONED_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})$/i;
const HOUR_MS = 3_600_000;
/** Wider than any real offset swing (-12h..+14h) so the true instant is always inside the search window. */
const WINDOW_MS = 15 * HOUR_MS;

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let format = formatters.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, format);
  }
  return format;
}

export function isValidTimeZone(timeZone: string): boolean {
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** The zone's wall clock at `instantMs`, expressed as if it were UTC milliseconds (sub-second part kept). */
export function wallClockMs(instantMs: number, timeZone: string): number {
  const seconds = Math.floor(instantMs / 1000) * 1000;
  const parts: Record<string, number> = {};
  for (const part of formatter(timeZone).formatToParts(new Date(seconds))) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  const wall = Date.UTC(parts.year ?? 0, (parts.month ?? 1) - 1, parts.day ?? 1, parts.hour ?? 0, parts.minute ?? 0, parts.second ?? 0);
  return wall + (instantMs - seconds);
}

function offsetMs(instantMs: number, timeZone: string): number {
  return wallClockMs(instantMs, timeZone) - instantMs;
}

/**
 * The first instant from which the zone's wall clock reads `wallMs` or later for good. In a DST gap that is the
 * transition itself (the clock skips the wanted time); in a repeated hour it is the moment the clock passes the
 * wanted time for the last time, so the result is never before the wall time, as the local person sees it.
 */
export function instantAtWallClock(wallMs: number, timeZone: string): number {
  const start = wallMs - WINDOW_MS;
  const end = wallMs + WINDOW_MS;
  const before = offsetMs(start, timeZone);
  const after = offsetMs(end, timeZone);
  if (before === after) return wallMs - before;
  // One transition in the window: find its first instant (offset changes from `before` to something else).
  let low = start;
  let high = end;
  while (high - low > 1) {
    const mid = Math.floor((low + high) / 2);
    if (offsetMs(mid, timeZone) === before) low = mid;
    else high = mid;
  }
  const transition = high;
  // After the transition the wall clock is t + after; the last instant with wall < wanted is wanted - after - 1.
  if (wallMs - after > transition) return wallMs - after;
  return Math.min(transition, wallMs - before);
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

function validDate(year: number, month: number, day: number): boolean {
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

/**
 * Interprets an HR effective date:
 * - `YYYY-MM-DD` → the end of that day (first instant of the next local day) in the zone;
 * - a local date-time without offset → that wall time in the zone;
 * - a date-time with `Z` or an offset → that instant.
 * The grace is added in every case. The zone is the event's when it names a valid one, else the policy's.
 */
export function interpretEffectiveDate(original: string, policy: EffectiveDatePolicy, eventTimeZone?: string): InterpretResult {
  const value = original.trim();
  const timeZone = eventTimeZone && isValidTimeZone(eventTimeZone) ? eventTimeZone : policy.timeZone;
  if (!isValidTimeZone(timeZone)) return { ok: false, reason: `time zone '${timeZone}' is not a valid IANA zone` };
  const graceMs = Math.max(0, Math.min(MAX_GRACE_MINUTES, policy.graceMinutes)) * 60_000;
  let instant: number;
  const dateOnly = DATE_ONLY.exec(value);
  const local = LOCAL_DATE_TIME.exec(value);
  if (dateOnly) {
    const [year, month, day] = [Number(dateOnly[1]), Number(dateOnly[2]), Number(dateOnly[3])];
    if (!validDate(year, month, day)) return { ok: false, reason: `effective date '${value}' is not a calendar date` };
    instant = instantAtWallClock(Date.UTC(year, month - 1, day + 1), timeZone);
  } else if (local) {
    const [year, month, day, hour, minute] = [Number(local[1]), Number(local[2]), Number(local[3]), Number(local[4]), Number(local[5])];
    const second = Number(local[6] ?? 0);
    const ms = Number((local[7] ?? '0').padEnd(3, '0'));
    if (!validDate(year, month, day) || hour > 23 || minute > 59 || second > 59) {
      return { ok: false, reason: `effective date '${value}' is not a valid date-time` };
    }
    instant = instantAtWallClock(Date.UTC(year, month - 1, day, hour, minute, second, ms), timeZone);
  } else if (ZONED_DATE_TIME.test(value) && !Number.isNaN(Date.parse(value))) {
    instant = Date.parse(value);
  } else {
    return { ok: false, reason: `effective date '${value.slice(0, 64)}' must be YYYY-MM-DD or an ISO-8601 date-time` };
  }
  const result = new Date(instant + graceMs);
  if (Number.isNaN(result.getTime())) return { ok: false, reason: `effective date '${value}' is out of range` };
  return { ok: true, value: { effectiveAt: result.toISOString(), original: value } };
}

/** The calendar date (`YYYY-MM-DD`) an instant falls on in a zone: for keys derived from provider timestamps. */
export function localDateOf(instantMs: number, timeZone: string): string {
  const wall = new Date(wallClockMs(instantMs, timeZone));
  return `${pad(wall.getUTCFullYear(), 4)}-${pad(wall.getUTCMonth() + 1)}-${pad(wall.getUTCDate())}`;
}
