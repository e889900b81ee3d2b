/** Task `Summarize` as a Lambda: wiring only; the use case is usecases/summarize.ts. */
import type { SummaryOutput } from '../core/workflow-state.js';
import { summarize } from '../usecases/summarize.js';
import { lambdaHandler } from './middleware.js';
import { getDefaultDeps } from './wiring/workflow.js';

export const handler = lambdaHandler((event: unknown): Promise<SummaryOutput> => summarize(event, getDefaultDeps()));
