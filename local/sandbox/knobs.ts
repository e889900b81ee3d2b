/**
 * The sandbox's misbehaviour knobs: a token-bucket rate limit and targeted faults.
 */
import { normalizeEmail } from '../../lambdas/core/email.js';

/** Capacity = rate (one second of burst), refilled continuously, like a per-key API quota. */
export class TokenBucket {
  private tokens: number;
  private lastRefillMs: number;
  private readonly capacity: number;

  constructor(
    private readonly ratePerSecond: number,
    private readonly now: () => number,
  ) {
    // A fractional rate still has to admit one request now and then.
    this.capacity = Math.max(1, ratePerSecond);
    this.tokens = this.capacity;
    this.lastRefillMs = now();
  }

  /** Takes a token; when none is left, returns the whole seconds to wait (>= 1) instead. */
  take(): { allowed: true } | { allowed: false; retryAfterSeconds: number } {
    const nowMs = this.now();
    const elapsedSeconds = Math.max(0, nowMs - this.lastRefillMs) / 1000;
    this.tokens = Math.min(this.capacity, this.tokens + elapsedSeconds * this.ratePerSecond);
    this.lastRefillMs = nowMs;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return { allowed: true };
    }
    const waitSeconds = (1 - this.tokens) / this.ratePerSecond;
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(waitSeconds)) };
  }
}

export interface InjectedFailure {
  status: number;
  retryAfterSeconds?: number;
}

interface UserFault extends InjectedFailure {
  id?: string;
  /** Only this route of the id (e.g. the DELETE, not the GETs that read the user before and after it). */
  route?: 'get' | 'delete';
  emailKey?: string;
  remaining: number;
}

/**
 * Faults aimed at one user: they fire on GET/DELETE of the user's id and on list calls whose
 * email filter is exactly the user's email, sharing one budget of `times` failures.
 */
export class FaultPlan {
  private userFaults: UserFault[] = [];
  private dropsRemaining = 0;
  private responseDrops: { route: string | undefined; remaining: number }[] = [];
  private ignoredDeletes = new Map<string, number>();

  constructor(private readonly resolve: (idOrEmail: string) => { id?: string; email?: string }) {}

  failUser(idOrEmail: string, times: number, status = 503, opts: { retryAfterSeconds?: number; route?: 'get' | 'delete' } = {}): void {
    if (!Number.isInteger(times) || times < 0) throw new RangeError(`failUser: times must be a non-negative integer, got ${times}`);
    if (!Number.isInteger(status) || status < 400 || status > 599) {
      throw new RangeError(`failUser: status must be an HTTP error status (400..599), got ${status}`);
    }
    const target = this.resolve(idOrEmail);
    const fault: UserFault = { status, remaining: times };
    if (opts.route !== undefined) fault.route = opts.route;
    if (target.id !== undefined) fault.id = target.id;
    if (target.email !== undefined) fault.emailKey = normalizeEmail(target.email);
    const retryAfter = opts.retryAfterSeconds ?? (status === 429 ? 1 : undefined);
    if (retryAfter !== undefined) fault.retryAfterSeconds = retryAfter;
    this.userFaults.push(fault);
  }

  dropConnections(times: number): void {
    if (!Number.isInteger(times) || times < 0) {
      throw new RangeError(`dropConnections: times must be a non-negative integer, got ${times}`);
    }
    this.dropsRemaining += times;
  }

  /** Applies the next `times` requests (of `route`, when given), then drops their answers. */
  dropResponses(times: number, route?: string): void {
    if (!Number.isInteger(times) || times < 0) {
      throw new RangeError(`dropResponses: times must be a non-negative integer, got ${times}`);
    }
    if (times > 0) this.responseDrops.push({ route, remaining: times });
  }

  /** The next `times` DELETEs of that user answer 204 without deleting: an acknowledged delete that did not apply. */
  ignoreDeletes(idOrEmail: string, times: number): void {
    if (!Number.isInteger(times) || times < 0) throw new RangeError(`ignoreDeletes: times must be a non-negative integer, got ${times}`);
    const id = this.resolve(idOrEmail).id;
    if (id === undefined) throw new RangeError(`ignoreDeletes: no user ${idOrEmail}`);
    this.ignoredDeletes.set(id, (this.ignoredDeletes.get(id) ?? 0) + times);
  }

  takeIgnoredDelete(id: string): boolean {
    const remaining = this.ignoredDeletes.get(id) ?? 0;
    if (remaining === 0) return false;
    if (remaining === 1) this.ignoredDeletes.delete(id);
    else this.ignoredDeletes.set(id, remaining - 1);
    return true;
  }

  clear(): void {
    this.ignoredDeletes.clear();
    this.userFaults = [];
    this.dropsRemaining = 0;
    this.responseDrops = [];
  }

  takeResponseDrop(route: string | undefined): boolean {
    const drop = this.responseDrops.find((candidate) => candidate.route === undefined || candidate.route === route);
    if (!drop) return false;
    drop.remaining -= 1;
    if (drop.remaining === 0) this.responseDrops = this.responseDrops.filter((candidate) => candidate !== drop);
    return true;
  }

  takeDrop(): boolean {
    if (this.dropsRemaining === 0) return false;
    this.dropsRemaining -= 1;
    return true;
  }

  takeForId(id: string, route?: 'get' | 'delete'): InjectedFailure | undefined {
    return this.take((fault) => fault.id === id && (fault.route === undefined || fault.route === route));
  }

  takeForEmailFilter(emailFilter: string): InjectedFailure | undefined {
    const key = normalizeEmail(emailFilter);
    return this.take((fault) => fault.emailKey === key && fault.route === undefined);
  }

  private take(matches: (fault: UserFault) => boolean): InjectedFailure | undefined {
    if (this.userFaults.length === 0) return undefined;
    const fault = this.userFaults.find((candidate) => candidate.remaining > 0 && matches(candidate));
    if (!fault) return undefined;
    fault.remaining -= 1;
    this.userFaults = this.userFaults.filter((candidate) => candidate.remaining > 0);
    const failure: InjectedFailure = { status: fault.status };
    if (fault.retryAfterSeconds !== undefined) failure.retryAfterSeconds = fault.retryAfterSeconds;
    return failure;
  }
}
