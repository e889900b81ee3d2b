/**
 * The scheduled pull Lambda (EventBridge Scheduler): wiring only. The use case is `runScheduledPull`
 * (usecases/pull-report.ts), the same fetch → rows → requests as `offboard pull`; configuration in wiring/pull.ts.
 */
import { runScheduledPull, type ScheduledPullSummary } from '../usecases/pull-report.js';
import { lambdaHandler } from './middleware.js';
import { getScheduledPull } from './wiring/pull.js';

export const handler = lambdaHandler(async (): Promise<ScheduledPullSummary> => {
  const { options, deps } = await getScheduledPull();
  return runScheduledPull(options, deps);
});
