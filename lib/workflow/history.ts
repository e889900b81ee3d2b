/**
 * Worst-case execution history of the offboarding state machine, computed from its ASL (the synthesised
 * definition, not a copy of its numbers). A Standard execution fails once its history reaches 25,000 events, so
 * the configuration (chunk size, delete rounds) must keep the worst case of a maximal request below that.
 *
 * Events per state, as Step Functions records them: a Task is Entered + Exited plus Scheduled/Started/(Failed or
 * Succeeded) per attempt; Choice, Wait and Succeed are Entered + Exited; a Map is Entered, Started, Succeeded,
 * Exited plus IterationStarted/Succeeded per item; the execution adds Started and Succeeded. The worst case: every
 * Task uses every attempt its retriers allow, every chunk of every round fails (DeleteChunk, then its catch
 * RecordChunkFailure) so every round re-runs all chunks, and every Wait is taken.
 */
import { WORKFLOW_STATES } from './tasks.js';

/** Step Functions' hard limit on one Standard execution's history. */
export const MAX_EXECUTION_HISTORY_EVENTS = 25_000;

type AslState = { Type?: string; Retry?: { MaxAttempts?: number }[]; ItemProcessor?: { States?: Record<string, AslState> }; Iterator?: { States?: Record<string, AslState> } };
export interface AslDefinition {
  States: Record<string, AslState>;
}

export interface HistoryScenario {
  emails: number;
  deleteChunkSize: number;
  /** Delete rounds: the retry policy's maxAttempts. */
  rounds: number;
}

function lookupState(states: Record<string, AslState>, name: string): AslState | undefined {
  for (const [stateName, state] of Object.entries(states)) {
    if (stateName === name) return state;
    const nested = state.ItemProcessor?.States ?? state.Iterator?.States;
    const found = nested ? lookupState(nested, name) : undefined;
    if (found) return found;
  }
  return undefined;
}

function findState(states: Record<string, AslState>, name: string): AslState {
  const state = lookupState(states, name);
  if (!state) throw new Error(`state ${name} is not in the definition`);
  return state;
}

/** Entered/Exited plus Scheduled/Started/Ended per attempt; retriers count separately (AWS keeps one counter each). */
function taskEvents(state: AslState): number {
  const attempts = 1 + (state.Retry ?? []).reduce((sum, retrier) => sum + (retrier.MaxAttempts ?? 3), 0);
  return 2 + 3 * attempts;
}

export function worstCaseHistoryEvents(definition: AslDefinition, scenario: HistoryScenario): number {
  const task = (name: string) => taskEvents(findState(definition.States, name));
  const chunks = Math.ceil(scenario.emails / scenario.deleteChunkSize);
  const perChunk = 2 + task('DeleteChunk') + task('RecordChunkFailure');
  const map = 4 + chunks * perChunk;
  const round = map + task('PlanRetry') + 2; // + RetriesLeft
  const backoffWaits = 2 * (scenario.rounds - 1);
  if (findState(definition.States, WORKFLOW_STATES.deleteMap).Type !== 'Map') throw new Error(`${WORKFLOW_STATES.deleteMap} is not a Map`);
  return (
    2 + // execution started / succeeded
    task('Validate') +
    2 + // EffectiveAtInFuture
    2 + // WaitUntilEffective
    task('ResolveEmails') +
    2 + // RouteByPlan
    scenario.rounds * round +
    backoffWaits +
    task('Summarize') +
    2 // Done
  );
}

/**
 * The ASL of a resolved `DefinitionString` (a plain string or `{"Fn::Join": ["", parts]}`), with every token —
 * they only appear inside string values (ARNs) — replaced by a placeholder: enough to read the states' structure.
 */
export function aslOfDefinition(resolved: unknown, token: (part: unknown) => string = () => 'TOKEN'): AslDefinition {
  if (typeof resolved === 'string') return JSON.parse(resolved) as AslDefinition;
  const join = (resolved as { 'Fn::Join'?: [string, unknown[]] } | null)?.['Fn::Join'];
  if (!join) throw new Error('DefinitionString is neither a string nor an Fn::Join');
  const [separator, parts] = join;
  return JSON.parse(parts.map((part) => (typeof part === 'string' ? part : token(part))).join(separator)) as AslDefinition;
}
