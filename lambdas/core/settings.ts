/**
 * The one statement of every tunable number's default and bounds. Three readers derive from it: the deploy-time
 * schema (`lib/config.ts`, cdk.json `offboarding`), the Lambda environment (`core/runtime-config.ts`, the same
 * values after `lib/workflow/environment.ts` wrote them as strings) and the Arize client (`arize/config.ts`:
 * options, ARIZE_* variables, `offboard users --concurrency/--rate`). Before this table they disagreed (the
 * deploy schema capped the client's concurrency at 64 where the environment and the CLI took 256, and
 * defaulted it to 4 where the client defaulted to 32), so a value one layer accepted another refused.
 * Pure data: no CDK, no SDK (the Lambda bundles import it).
 */

export interface NumberSetting {
  /** What a reader uses when nothing is set (the client's own default for the Arize ones). */
  readonly default: number;
  /** When the deployed stack's default differs from the client's, this is it (cdk.json states it too). */
  readonly deployedDefault?: number;
  readonly min: number;
  readonly max: number;
  /** Whole numbers only. */
  readonly integer: boolean;
}

const setting = (value: number, min: number, max: number, integer = true, deployedDefault?: number): NumberSetting => ({
  default: value,
  min,
  max,
  integer,
  ...(deployedDefault !== undefined ? { deployedDefault } : {}),
});

/** The rate with `rateControl: 'fixed'` and no explicit rate, and the deployed stack's default ceiling. */
export const ARIZE_FIXED_REQUESTS_PER_SECOND = 10;

export const SETTINGS = {
  /** More deletions than this in one request ⇒ HELD until `offboard approve`; 0 holds every request. */
  maxDeletesPerRequest: setting(50, 0, 1000),
  /** Users per DeleteUsers Map iteration (one Lambda invocation each). */
  deleteChunkSize: setting(100, 1, 1000),
  /** Delete attempts per request, the first included (the workflow's Wait-and-retry loop). */
  retryMaxAttempts: setting(3, 1, 10),
  retryBackoffSeconds: setting(60, 0, 86_400),
  retryBackoffRate: setting(2, 1, 10, false),
  /**
   * Ceiling on Arize requests in flight per client. One range everywhere (1–256, what the CLI and the Lambda
   * environment already took). Two defaults, for two shapes of caller: a CLI process is the only client (32,
   * the adaptive control stays below it on its own); a deployed stack runs up to `deleteMapConcurrency` (4)
   * DeleteUsers invocations at once, each with its own client, so 4 each keeps the account at 16 in flight.
   */
  arizeMaxConcurrency: setting(32, 1, 256, true, 4),
  /**
   * Ceiling on the request rate per client. Adaptive control starts at 10 req/s and probes up to it; `fixed`
   * control uses ARIZE_FIXED_REQUESTS_PER_SECOND when no rate is given. A deployed stack defaults to that fixed
   * rate per invocation (raise it knowingly); whole numbers in cdk.json and the Lambda environment.
   */
  arizeMaxRequestsPerSecond: setting(5_000, 1, 10_000, false, ARIZE_FIXED_REQUESTS_PER_SECOND),
  /** The removal SLA auditors test against: access removed within this many hours of the effective termination. */
  evidenceSlaHours: setting(24, 1, 720, false),
} as const satisfies Record<string, NumberSetting>;

/** Upper bound of a single workflow retry wait, whatever the growth factor makes of it. */
export const RETRY_MAX_BACKOFF_SECONDS = 6 * 3600;

export type SettingName = keyof typeof SETTINGS;

/** The default a deployed stack gets when cdk.json leaves the key out. */
export function deployedDefault(name: SettingName): number {
  const entry: NumberSetting = SETTINGS[name];
  return entry.deployedDefault ?? entry.default;
}
