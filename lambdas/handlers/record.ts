/** Tasks `RecordHeld`, `RecordDryRun`, `RecordChunkFailure`, `RecordFailure` as a Lambda: wiring only (usecases/record.ts). */
import { recordAction, type RecordOutput } from '../usecases/record.js';
import { lambdaHandler } from './middleware.js';
import { getDefaultDeps } from './wiring/workflow.js';

export const handler = lambdaHandler((event: unknown): Promise<RecordOutput> => recordAction(event, getDefaultDeps()));
