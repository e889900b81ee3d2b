/** Task `Summarize`: counts the request's outcomes from the ledger and stores the final request state. */
import { countOutcomes, finalRequestState } from '../core/outcome.js';
import { SummarizeInputSchema, type SummaryOutput } from '../core/workflow-state.js';
import { parseTaskInput } from './parse.js';
import { getDefaultDeps, type WorkflowDeps } from './runtime.js';
import { lambdaHandler } from './middleware.js';

export async function summarize(input: unknown, deps: Pick<WorkflowDeps, 'ledger' | 'clock' | 'log'>): Promise<SummaryOutput> {
  const { requestId } = parseTaskInput(SummarizeInputSchema, input, 'Summarize');
  const outcomes = await deps.ledger.outcomesOfRequest(requestId);
  const counts = countOutcomes(outcomes);
  const status = finalRequestState(counts);
  await deps.ledger.updateRequestState(requestId, { status, at: deps.clock().toISOString(), counts });
  deps.log.info('request summarised', { requestId, status, ...counts });
  return { requestId, status, counts };
}

export const handler = lambdaHandler((event: unknown): Promise<SummaryOutput> => summarize(event, getDefaultDeps()));
