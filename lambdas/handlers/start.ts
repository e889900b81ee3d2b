/** The start Lambda (intake SQS queue): wiring only; the use case is usecases/start.ts. */
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { startRequests } from '../usecases/start.js';
import { lambdaHandler } from './middleware.js';
import { getDefaultStartDeps } from './wiring/start.js';

export const handler = lambdaHandler(async (event: SQSEvent): Promise<SQSBatchResponse> => (await startRequests(event, getDefaultStartDeps())).response);
