/** Task `ResolveEmails` as a Lambda: wiring only; the use case is usecases/resolve.ts. */
import type { Context } from 'aws-lambda';
import type { ResolveOutput } from '../core/workflow-state.js';
import { resolveEmails } from '../usecases/resolve.js';
import { lambdaHandler } from './middleware.js';
import { deadlineOptions, getDefaultArizeDeps } from './wiring/arize.js';

export const handler = lambdaHandler((event: unknown, context: Context): Promise<ResolveOutput> => resolveEmails(event, getDefaultArizeDeps(), deadlineOptions(context)));
