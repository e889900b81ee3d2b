/** Task `DeleteChunk` as a Lambda: wiring only; the use case is usecases/delete.ts. */
import type { Context } from 'aws-lambda';
import type { ChunkResult } from '../core/workflow-state.js';
import { deleteChunk } from '../usecases/delete.js';
import { lambdaHandler } from './middleware.js';
import { deadlineOptions, getDefaultArizeDeps } from './wiring/arize.js';

export const handler = lambdaHandler((event: unknown, context: Context): Promise<ChunkResult> => deleteChunk(event, getDefaultArizeDeps(), deadlineOptions(context)));
