/** Task `Validate` as a Lambda: wiring only; the use case is usecases/validate.ts. */
import type { ValidatedState } from '../core/workflow-state.js';
import { validateRequest } from '../usecases/validate.js';
import { lambdaHandler } from './middleware.js';
import { getDefaultDeps } from './wiring/workflow.js';

export const handler = lambdaHandler((event: unknown): Promise<ValidatedState> => validateRequest(event, getDefaultDeps()));
