/**
 * Errors thrown by workflow tasks. Their `name` becomes the Step Functions error name, which the
 * state machine's Retry/Catch clauses match (names shared via WORKFLOW_ERROR_NAMES).
 */
import { WORKFLOW_ERROR_NAMES } from '../core/workflow-state.js';

export class InvalidRequestError extends Error {
  override readonly name = WORKFLOW_ERROR_NAMES.invalidRequest;
}

/** A malformed task payload: a bug in the definition, never retried. */
export class WorkflowInputError extends Error {
  override readonly name = WORKFLOW_ERROR_NAMES.workflowInput;
}

/** Arize was unavailable (throttled, 5xx, network, deadline); the Task Retry tries again later. */
export class TransientArizeError extends Error {
  override readonly name = WORKFLOW_ERROR_NAMES.transientArize;
}
