/**
 * Every Task state of the workflow as an in-process function over injected dependencies: what the local
 * engine plugs into the synthesised ASL. Keys are the Task state names of lib/workflow/tasks.ts
 * (WORKFLOW_TASKS); a unit test keeps the two in step.
 */
import { deleteChunk } from './delete.js';
import { planRetry } from './plan-retry.js';
import { recordAction } from './record.js';
import { resolveEmails } from './resolve.js';
import type { WorkflowDeps } from './ports.js';
import { summarize } from './summarize.js';
import { validateRequest } from './validate.js';

export type WorkflowTaskHandler = (input: unknown) => Promise<unknown>;

/** What the SNS task would publish (its Parameters, resolved). */
export interface PublishedAlert {
  TopicArn?: string;
  Message?: string;
  Subject?: string;
}

export interface TaskHandlerOptions {
  /** Receives what AlertHeld would publish to SNS; default: logged (masked) as a warning. */
  onAlert?: (alert: PublishedAlert) => void | Promise<void>;
  /** Epoch ms deadline given to Arize calls, e.g. to imitate a Lambda timeout. */
  deadline?: () => number | undefined;
}

export function createWorkflowTaskHandlers(deps: WorkflowDeps, options: TaskHandlerOptions = {}) {
  const withDeadline = () => {
    const deadline = options.deadline?.();
    return deadline === undefined ? {} : { deadline };
  };
  const record: WorkflowTaskHandler = (input) => recordAction(input, deps);
  return {
    Validate: (input) => validateRequest(input, deps),
    ResolveEmails: (input) => resolveEmails(input, deps, withDeadline()),
    RecordHeld: record,
    AlertHeld: async (input) => {
      const alert = (input ?? {}) as PublishedAlert;
      if (options.onAlert) await options.onAlert(alert);
      else deps.log.warn('alert (local, not published)', { subject: alert.Subject, message: alert.Message });
      return { MessageId: 'local' };
    },
    RecordDryRun: record,
    DeleteChunk: (input) => deleteChunk(input, deps, withDeadline()),
    RecordChunkFailure: record,
    PlanRetry: (input) => Promise.resolve(planRetry(input, deps)),
    Summarize: (input) => summarize(input, deps),
    RecordFailure: record,
  } satisfies Record<string, WorkflowTaskHandler>;
}
