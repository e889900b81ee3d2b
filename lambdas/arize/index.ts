/** Public API of the Arize users client. */
export {
  ArizeUsersClient,
  parseRole,
  NOT_FOUND_BY_EMAIL,
  NOT_FOUND_BY_ID,
  DELETE_NOT_ATTEMPTED,
  DELETE_ABORTED,
  RESOLVE_NOT_ATTEMPTED,
} from './client.js';
export type {
  BulkDeleteInput,
  BulkDeleteOptions,
  BulkUserDeletionResult,
  CreateUserInput,
  CreateUserResult,
  ListAllParams,
  ListParams,
  RoleInput,
  UpdateUserPatch,
  ListApiKeysParams,
  ListAuditLogsParams,
  ListRoleBindingsParams,
  ListRolesParams,
  ListSpacesParams,
} from './client.js';
export {
  resolveConfig,
  resolveEndpoint,
  describeEndpoint,
  ARIZE_REGIONS,
  DEFAULT_HOST,
  DEFAULT_MAX_CONCURRENCY,
  DEFAULT_MAX_REQUESTS_PER_SECOND,
  DEFAULT_MAX_RETRIES,
  DEFAULT_REQUEST_TIMEOUT_MS,
  DEFAULT_FIXED_REQUESTS_PER_SECOND,
  RATE_CONTROL_MODES,
} from './config.js';
export type { ArizeClientOptions, ArizeEndpoint, ArizeLogger, RateControlMode, ResolvedArizeConfig } from './config.js';
export {
  ArizeError,
  ArizeApiError,
  ArizeResponseError,
  ArizeNetworkError,
  ArizeTimeoutError,
  ArizeConfigError,
  ArizeValidationError,
  ArizeDeadlineError,
  ArizeOutcomeUnknownError,
  isRetryableStatus,
} from './errors.js';
export type { CallOptions, ClientStats } from './http.js';
export { LOOKUP_ONLY_BELOW, SCAN_PAGE_SIZE } from './resolve.js';
export type { EmailResolution } from './resolve.js';
export { parseRetryAfterMs, fullJitterBackoffMs, retryDelayMs } from './retry.js';
export { TokenBucket } from './rate-limit.js';
export { AdaptiveRateController, realClock } from './adaptive-rate.js';
export type { Clock, RateControlOptions, RateControlSnapshot, SendOutcome } from './adaptive-rate.js';
export * from './wire.js';
