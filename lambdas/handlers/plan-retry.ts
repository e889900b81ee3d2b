/** Task `PlanRetry` as a Lambda: wiring only; the use case is usecases/plan-retry.ts. */
import { planRetry, type PlanRetryOutput } from '../usecases/plan-retry.js';
import { lambdaHandler } from './middleware.js';
import { getDefaultDeps } from './wiring/workflow.js';

export const handler = lambdaHandler((event: unknown): Promise<PlanRetryOutput> => Promise.resolve(planRetry(event, getDefaultDeps())));
