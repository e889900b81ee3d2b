/**
 * A local Step Functions execution service: runs an ASL definition (the one synthesised from the CDK stack)
 * with aws-local-stepfunctions, every Task state answered by an in-process handler, and keeps the
 * executions so StartExecution's idempotency rules and DescribeExecution work as in AWS.
 */
// Must stay the first import: aws-local-stepfunctions needs Promise.withResolvers, missing on Node 20.
import './polyfill.js';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { ExecutionAlreadyExists, ExecutionDoesNotExist, InvalidExecutionInput, InvalidName } from '@aws-sdk/client-sfn';
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { LOCAL_AWS_REGION } from './dynamo.js';
import { LOCAL_AWS_ACCOUNT_ID } from './sqs.js';

/** A Task state's local implementation. For Lambda tasks it receives the Lambda event (the `Payload`). */
export type TaskHandler = (input: unknown) => Promise<unknown>;

/** One entry of the engine's execution event log (StateEntered, StateRetried, MapIterationStarted, …). */
export type ExecutionEvent = ReturnType<StateMachine['run']>['eventLogs'] extends AsyncGenerator<infer Event> ? Event : never;

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

export interface LocalStepFunctionsOptions {
  /** ASL JSON (JSONPath), e.g. `synthesizeDefinition(...).definition`. */
  definition: object;
  /** Keyed by Task state name (names are unique across the whole machine, Map iterators included). */
  taskHandlers: Record<string, TaskHandler>;
  /**
   * Multiplies every Wait state's duration and every Retry interval: 1 (default) = real time,
   * 0 = no waiting, 0.01 = 100× faster. Scaled Retry intervals use each retrier's IntervalSeconds
   * without backoff growth or jitter.
   */
  waitTimeScale?: number;
  /** Name used in ARNs (default `local`). */
  stateMachineName?: string;
  /**
   * Keep each execution's event log for `waitForExecution` (default true). Long local runs with many
   * executions can turn it off to bound memory; `transitions` is counted either way.
   */
  retainEvents?: boolean;
}

export interface StartExecutionInput {
  /** Execution name (1–80 chars, Step Functions' character rules); a UUID when omitted. */
  name?: string;
  /** The execution input as a JSON value (what the SDK would send JSON-encoded). */
  input?: unknown;
}

export interface StartExecutionOutput {
  executionArn: string;
  startDate: Date;
}

export interface ExecutionDescription {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  status: ExecutionStatus;
  input: unknown;
  startDate: Date;
  stopDate?: Date;
  output?: unknown;
  error?: string;
  cause?: string;
}

export interface ExecutionResult {
  status: Exclude<ExecutionStatus, 'RUNNING'>;
  output?: unknown;
  error?: string;
  cause?: string;
  /** `countStateTransitions` of the full event log, available even when events are not retained. */
  transitions: number;
  /** Empty when the service was created with `retainEvents: false`. */
  events: ExecutionEvent[];
}

interface ExecutionRecord {
  description: ExecutionDescription;
  /** The input as started, compared by an idempotent StartExecution while RUNNING; released when the execution stops. */
  inputJson: string | undefined;
  events: ExecutionEvent[];
  transitions: { count: number };
  finished: Promise<void>;
  /** The engine's abort, released when the execution stops: it closes over the engine's whole run (input, state). */
  abort: () => void;
  /** Aborts the local waits of this execution along with it. */
  waits: AbortController;
}

type JsonObject = Record<string, unknown>;
type AslStates = Record<string, JsonObject>;

/** Step Functions' cap on execution input and on any state's output. */
const MAX_PAYLOAD_BYTES = 262_144;
const LAMBDA_INVOKE_RESOURCE = /^arn:aws[a-z-]*:states:::lambda:invoke$/;
const LAMBDA_FUNCTION_RESOURCE = /^arn:aws[a-z-]*:lambda:[^:]*:[^:]*:function:/;
/** Resource given to Wait states rewritten into local waits; never called remotely. */
const SCALED_WAIT_RESOURCE = `arn:aws:lambda:${LOCAL_AWS_REGION}:${LOCAL_AWS_ACCOUNT_ID}:function:LocalScaledWait`;
/** Below Node's setTimeout ceiling (2^31-1 ms), which the engine uses for Task timeouts. */
const MAX_LOCAL_TASK_TIMEOUT_SECONDS = 2_000_000;
/** Lambda's maximum timeout: the engine's own 60 s default would cut slow handlers that AWS lets run. */
const DEFAULT_TASK_TIMEOUT_SECONDS = 900;
/** Step Functions' execution name rules: 1–80 chars, no whitespace, brackets, wildcards or these specials. */
const INVALID_NAME_CHARACTERS = /[\s<>{}[\]?*"#%\\^|~`$&,;:/]/u;

function hasControlCharacter(text: string): boolean {
  return [...text].some((character) => {
    const code = character.codePointAt(0) ?? 0;
    return code <= 0x1f || (code >= 0x7f && code <= 0x9f);
  });
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function cloneJson<T>(value: T): T {
  return value === undefined ? (null as T) : (JSON.parse(JSON.stringify(value)) as T);
}

function byteLength(json: string): number {
  return Buffer.byteLength(json, 'utf8');
}

/** An error the engine treats like Step Functions' own runtime errors: neither retried nor caught. */
class StatesRuntimeFailure extends Error {
  readonly isRetryable = false;
  readonly isCatchable = false;
  constructor(message: string) {
    super(message);
    this.name = 'States.Runtime';
  }
}

/**
 * What Step Functions sees when a Lambda throws: Error = the error's name (its `errorType`),
 * Cause = the Lambda runtime's JSON error document. Retry/Catch match on the name.
 */
export class TaskFailure extends Error {
  constructor(name: string, cause: string) {
    super(cause);
    this.name = name;
  }
}

function lambdaTaskFailure(error: unknown): TaskFailure {
  const errorType = error instanceof Error ? error.name : 'Error';
  const errorMessage = error instanceof Error ? error.message : String(error);
  const trace = error instanceof Error && error.stack !== undefined ? error.stack.split('\n') : [];
  return new TaskFailure(errorType, JSON.stringify({ errorType, errorMessage, trace }));
}

function serviceTaskFailure(error: unknown): TaskFailure {
  if (error instanceof Error) return new TaskFailure(error.name, error.message);
  return new TaskFailure('Error', String(error));
}

/** Calls `visit` for every state, including those inside Map iterators and Parallel branches. */
function forEachState(states: AslStates, visit: (name: string, state: JsonObject, container: AslStates) => void): void {
  for (const [name, state] of Object.entries(states)) {
    visit(name, state, states);
    const nested: unknown[] = [];
    if (state.Type === 'Map') nested.push(state.ItemProcessor ?? state.Iterator);
    if (state.Type === 'Parallel' && Array.isArray(state.Branches)) nested.push(...(state.Branches as unknown[]));
    for (const machine of nested) {
      if (isObject(machine) && isObject(machine.States)) forEachState(machine.States as AslStates, visit);
    }
  }
}

/** Thrown by a local wait whose deadline lies beyond one Task's reach; its Retry calls it again. */
const WAIT_CONTINUES_ERROR = 'Local.WaitContinues';
/**
 * The longest a local wait sleeps in one Task invocation: below MAX_LOCAL_TASK_TIMEOUT_SECONDS (the engine
 * times Tasks out with setTimeout, whose ceiling is 2^31-1 ms). A later timestamp is reached by retrying.
 */
const MAX_WAIT_SLICE_MS = 1_000_000_000;

/**
 * Every Wait state runs as a local task, also at scale 1: the engine's own Wait sleeps with one setTimeout,
 * and a Timestamp more than ~24.8 days ahead would overflow it and fire at once — an effective date ignored.
 * The task waits in slices against the clock and is abortable with its execution.
 */
function localWaitTask(state: JsonObject): JsonObject {
  const parameters: JsonObject = { 'input.$': '$', 'execution.$': '$$.Execution.Id' };
  if (state.Seconds !== undefined) parameters.seconds = state.Seconds;
  if (state.SecondsPath !== undefined) parameters['seconds.$'] = state.SecondsPath;
  if (state.Timestamp !== undefined) parameters.timestamp = state.Timestamp;
  if (state.TimestampPath !== undefined) parameters['timestamp.$'] = state.TimestampPath;
  const task: JsonObject = {
    Type: 'Task',
    Resource: SCALED_WAIT_RESOURCE,
    Parameters: parameters,
    TimeoutSeconds: MAX_LOCAL_TASK_TIMEOUT_SECONDS,
    Retry: [{ ErrorEquals: [WAIT_CONTINUES_ERROR], IntervalSeconds: 1, MaxAttempts: 99_999_999, BackoffRate: 1 }],
  };
  for (const field of ['Comment', 'InputPath', 'OutputPath', 'Next', 'End']) {
    if (state[field] !== undefined) task[field] = state[field];
  }
  return task;
}

/** What a local Wait needs from its execution: the signal that aborts it, and a count of sleeping waits. */
interface WaitHooks {
  signalOf(executionArn: string): AbortSignal | undefined;
  sleeping(executionArn: string, delta: 1 | -1): void;
}

function localWaitHandler(scale: number, hooks: WaitHooks): TaskHandler {
  return async (raw) => {
    const request = raw as { input: unknown; execution?: unknown; seconds?: unknown; timestamp?: unknown };
    const execution = typeof request.execution === 'string' ? request.execution : undefined;
    const signal = execution !== undefined ? hooks.signalOf(execution) : undefined;
    const pause = async (ms: number) => {
      if (execution !== undefined) hooks.sleeping(execution, 1);
      try {
        await sleep(ms, undefined, signal ? { signal } : undefined);
      } catch (error) {
        // Aborted with its execution: the engine has already ended it ABORTED.
        if (!signal?.aborted) throw error;
      } finally {
        if (execution !== undefined) hooks.sleeping(execution, -1);
      }
    };
    if (request.seconds !== undefined) {
      if (typeof request.seconds !== 'number' || !Number.isInteger(request.seconds) || request.seconds < 0) {
        throw new StatesRuntimeFailure(`Wait seconds must be a non-negative integer, got ${JSON.stringify(request.seconds)}`);
      }
      const waitMs = request.seconds * 1000 * scale;
      if (waitMs > MAX_WAIT_SLICE_MS) {
        throw new StatesRuntimeFailure(`Wait of ${request.seconds} s is above what the local engine can time (${MAX_WAIT_SLICE_MS / 1000} s); use a Timestamp`);
      }
      if (waitMs > 0) await pause(waitMs);
      return request.input;
    }
    if (request.timestamp !== undefined) {
      const at = typeof request.timestamp === 'string' ? Date.parse(request.timestamp) : Number.NaN;
      if (Number.isNaN(at)) throw new StatesRuntimeFailure(`Wait timestamp must be an ISO-8601 string, got ${JSON.stringify(request.timestamp)}`);
      if (scale !== 1) {
        const scaledMs = Math.max(0, (at - Date.now()) * scale);
        if (scaledMs > 0) await pause(Math.min(scaledMs, MAX_WAIT_SLICE_MS));
        return request.input;
      }
      // Real time: measured against the clock after every slice, never ahead of the timestamp.
      const remaining = at - Date.now();
      if (remaining > 0) await pause(Math.min(remaining, MAX_WAIT_SLICE_MS));
      if (signal?.aborted) return request.input;
      if (Date.now() < at) throw new TaskFailure(WAIT_CONTINUES_ERROR, `waiting until ${new Date(at).toISOString()}`);
    }
    return request.input;
  };
}

interface PreparedMachine {
  definition: StateMachineDefinition;
  handlers: Record<string, (input: unknown) => Promise<unknown>>;
  retryIntervalOverrides: Record<string, number[]>;
  rewrittenWaits: Set<string>;
}

function wrapTaskHandler(stateName: string, resource: string, handler: TaskHandler): (input: unknown) => Promise<unknown> {
  const isLambdaInvoke = LAMBDA_INVOKE_RESOURCE.test(resource);
  const isLambda = isLambdaInvoke || LAMBDA_FUNCTION_RESOURCE.test(resource);
  return async (rawInput) => {
    // The Lambda boundary serialises both ways; cloning keeps handlers from sharing objects with the engine.
    const input = cloneJson(rawInput);
    const event = isLambdaInvoke && isObject(input) ? (input.Payload ?? null) : input;
    let result: unknown;
    try {
      result = cloneJson(await handler(event));
    } catch (error) {
      throw isLambda ? lambdaTaskFailure(error) : serviceTaskFailure(error);
    }
    const output = isLambdaInvoke
      ? {
          ExecutedVersion: '$LATEST',
          Payload: result,
          SdkHttpMetadata: { HttpHeaders: {}, HttpStatusCode: 200 },
          SdkResponseMetadata: { RequestId: randomUUID() },
          StatusCode: 200,
        }
      : result;
    const size = byteLength(JSON.stringify(output));
    if (size > MAX_PAYLOAD_BYTES) {
      throw new TaskFailure('States.DataLimitExceeded', `The state/task '${stateName}' returned a result of ${size} bytes, above the limit of ${MAX_PAYLOAD_BYTES}.`);
    }
    return output;
  };
}

function prepareMachine(
  options: LocalStepFunctionsOptions,
  scale: number,
  hooks: WaitHooks,
): PreparedMachine {
  const definition = cloneJson(options.definition) as JsonObject;
  if (!isObject(definition.States) || typeof definition.StartAt !== 'string') {
    throw new Error('LocalStepFunctions: definition must be ASL JSON with StartAt and States');
  }
  const handlers: PreparedMachine['handlers'] = {};
  const retryIntervalOverrides: PreparedMachine['retryIntervalOverrides'] = {};
  const rewrittenWaits = new Set<string>();
  const taskStates: string[] = [];
  forEachState(definition.States as AslStates, (name, state, container) => {
    if (state.Type === 'Wait') {
      container[name] = localWaitTask(state);
      handlers[name] = localWaitHandler(scale, hooks);
      rewrittenWaits.add(name);
      return;
    }
    if (state.Type === 'Task') {
      taskStates.push(name);
      state.TimeoutSeconds ??= state.TimeoutSecondsPath === undefined ? DEFAULT_TASK_TIMEOUT_SECONDS : undefined;
      if (state.TimeoutSeconds === undefined) delete state.TimeoutSeconds;
      const handler = options.taskHandlers[name];
      if (handler !== undefined) handlers[name] = wrapTaskHandler(name, String(state.Resource), handler);
    }
    if (Array.isArray(state.Retry) && scale !== 1) {
      retryIntervalOverrides[name] = (state.Retry as unknown[]).map((retrier) => {
        const interval = isObject(retrier) && typeof retrier.IntervalSeconds === 'number' ? retrier.IntervalSeconds : 1;
        return interval * 1000 * scale;
      });
    }
  });
  // A Task without a handler would make the engine call AWS Lambda for real; refuse instead.
  const missing = taskStates.filter((name) => options.taskHandlers[name] === undefined);
  const unknown = Object.keys(options.taskHandlers).filter((name) => !taskStates.includes(name));
  if (missing.length > 0 || unknown.length > 0) {
    const parts = [];
    if (missing.length > 0) parts.push(`no handler for Task state(s): ${missing.join(', ')}`);
    if (unknown.length > 0) parts.push(`handler(s) for unknown Task state(s): ${unknown.join(', ')} (Task states: ${taskStates.join(', ')})`);
    throw new Error(`LocalStepFunctions: ${parts.join('; ')}`);
  }
  return { definition: definition as unknown as StateMachineDefinition, handlers, retryIntervalOverrides, rewrittenWaits };
}

export function validateExecutionName(name: string): void {
  if (name.length < 1 || name.length > 80) {
    throw new InvalidName({ message: `Invalid Name: '${name}' (must be 1 to 80 characters)`, $metadata: {} });
  }
  if (INVALID_NAME_CHARACTERS.test(name) || hasControlCharacter(name)) {
    throw new InvalidName({ message: `Invalid Name: '${name}' (contains a character Step Functions does not allow)`, $metadata: {} });
  }
}

/**
 * State transitions as AWS bills them: one per state entered (Map and Parallel states themselves, and every
 * state inside each Map iteration or branch) plus one per Retry attempt. Execution start/end and Map
 * iteration start/end events are not transitions.
 */
export function countStateTransitions(events: readonly ExecutionEvent[]): number {
  return events.filter((event) => event.type === 'StateEntered' || event.type === 'StateRetried').length;
}

export class LocalStepFunctions {
  readonly stateMachineArn: string;
  private readonly stateMachineName: string;
  private readonly machine: StateMachine;
  private readonly prepared: PreparedMachine;
  private readonly executions = new Map<string, ExecutionRecord>();
  private readonly retainEvents: boolean;
  /** Local Wait tasks now sleeping, per execution (Map iterations may wait in parallel). */
  private readonly sleeping = new Map<string, number>();

  constructor(options: LocalStepFunctionsOptions) {
    this.retainEvents = options.retainEvents ?? true;
    const scale = options.waitTimeScale ?? 1;
    if (!Number.isFinite(scale) || scale < 0) throw new Error(`LocalStepFunctions: waitTimeScale must be a finite number >= 0, got ${scale}`);
    this.stateMachineName = options.stateMachineName ?? 'local';
    this.stateMachineArn = `arn:aws:states:${LOCAL_AWS_REGION}:${LOCAL_AWS_ACCOUNT_ID}:stateMachine:${this.stateMachineName}`;
    this.prepared = prepareMachine(options, scale, {
      signalOf: (executionArn) => this.executions.get(executionArn)?.waits.signal,
      // Kept apart from the records: the first Wait can start inside machine.run(), before its record is stored.
      sleeping: (executionArn, delta) => {
        const count = (this.sleeping.get(executionArn) ?? 0) + delta;
        if (count > 0) this.sleeping.set(executionArn, count);
        else this.sleeping.delete(executionArn);
      },
    });
    // Validates the definition (paths, ARNs, reachability) up front, as CreateStateMachine would.
    this.machine = new StateMachine(this.prepared.definition);
  }

  /**
   * StartExecution for a Standard workflow: the same name with the same input while the execution is
   * RUNNING returns the original execution; a finished execution's name, or a different input, is
   * ExecutionAlreadyExists (the SDK's error class, so callers handle it as they would in AWS).
   */
  startExecution(request: StartExecutionInput = {}): Promise<StartExecutionOutput> {
    try {
      return Promise.resolve(this.startExecutionNow(request));
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  private startExecutionNow(request: StartExecutionInput): StartExecutionOutput {
    const name = request.name ?? randomUUID();
    validateExecutionName(name);
    const input = request.input === undefined ? {} : request.input;
    let inputJson: string;
    try {
      inputJson = JSON.stringify(input);
    } catch (error) {
      throw new InvalidExecutionInput({ message: `Invalid execution input: ${String(error)}`, $metadata: {} });
    }
    if (byteLength(inputJson) > MAX_PAYLOAD_BYTES) {
      throw new InvalidExecutionInput({ message: `Execution input exceeds ${MAX_PAYLOAD_BYTES} bytes`, $metadata: {} });
    }
    const executionArn = `arn:aws:states:${LOCAL_AWS_REGION}:${LOCAL_AWS_ACCOUNT_ID}:execution:${this.stateMachineName}:${name}`;
    const existing = this.executions.get(executionArn);
    if (existing !== undefined) {
      if (existing.description.status === 'RUNNING' && existing.inputJson === inputJson) {
        return { executionArn, startDate: existing.description.startDate };
      }
      throw new ExecutionAlreadyExists({ message: `Execution Already Exists: '${executionArn}'`, $metadata: {} });
    }
    const record = this.run(executionArn, name, inputJson);
    this.executions.set(executionArn, record);
    return { executionArn, startDate: record.description.startDate };
  }

  describeExecution(executionArn: string): ExecutionDescription {
    const { description } = this.get(executionArn);
    return { ...description };
  }

  listExecutions(filter: { status?: ExecutionStatus } = {}): ExecutionDescription[] {
    return [...this.executions.values()]
      .map((record) => ({ ...record.description }))
      .filter((description) => filter.status === undefined || description.status === filter.status);
  }

  /** Resolves when the execution has stopped (whatever its status) and its event log is complete. */
  async waitForExecution(executionArn: string): Promise<ExecutionResult> {
    const record = this.get(executionArn);
    await record.finished;
    const { status, output, error, cause } = record.description;
    if (status === 'RUNNING') throw new Error(`Execution ${executionArn} finished without a final status`);
    return {
      status,
      ...(output !== undefined ? { output } : {}),
      ...(error !== undefined ? { error } : {}),
      ...(cause !== undefined ? { cause } : {}),
      transitions: record.transitions.count,
      events: [...record.events],
    };
  }

  /** Like StopExecution: the execution ends ABORTED; a handler already running finishes in the background. */
  async stopExecution(executionArn: string): Promise<void> {
    const record = this.get(executionArn);
    if (record.description.status !== 'RUNNING') return;
    record.abort();
    record.waits.abort();
    await record.finished;
  }

  /**
   * RUNNING executions that are doing work, i.e. not sleeping in a Wait state (an effective date in the future,
   * a retry backoff): what the local runtime bounds, so a window of executions is never held by waits.
   */
  activeExecutions(): number {
    let active = 0;
    for (const [arn, record] of this.executions) if (record.description.status === 'RUNNING' && !this.sleeping.has(arn)) active += 1;
    return active;
  }

  /** Resolves when no execution is RUNNING, including ones started while waiting. */
  async waitForIdle(): Promise<void> {
    for (;;) {
      const running = [...this.executions.values()].filter((record) => record.description.status === 'RUNNING');
      if (running.length === 0) return;
      await Promise.all(running.map((record) => record.finished));
    }
  }

  private get(executionArn: string): ExecutionRecord {
    const record = this.executions.get(executionArn);
    if (record === undefined) {
      throw new ExecutionDoesNotExist({ message: `Execution Does Not Exist: '${executionArn}'`, $metadata: {} });
    }
    return record;
  }

  private run(executionArn: string, name: string, inputJson: string): ExecutionRecord {
    const input = JSON.parse(inputJson) as unknown;
    const startDate = new Date();
    const description: ExecutionDescription = {
      executionArn,
      stateMachineArn: this.stateMachineArn,
      name,
      status: 'RUNNING',
      input,
      startDate,
    };
    const execution = this.machine.run(cloneJson(input) as never, {
      overrides: {
        taskResourceLocalHandlers: this.prepared.handlers as never,
        retryIntervalOverrides: this.prepared.retryIntervalOverrides,
      },
      context: {
        Execution: { Id: executionArn, Name: name, RoleArn: `arn:aws:iam::${LOCAL_AWS_ACCOUNT_ID}:role/local-step-functions` },
        StateMachine: { Id: this.stateMachineArn, Name: this.stateMachineName },
      },
    });
    const events: ExecutionEvent[] = [];
    const transitions = { count: 0 };
    let terminalEvent: ExecutionEvent | undefined;
    const collectEvents = async (): Promise<void> => {
      for await (const event of execution.eventLogs) {
        transitions.count += countStateTransitions([event]);
        if (event.type === 'ExecutionFailed' || event.type === 'ExecutionAborted' || event.type === 'ExecutionTimeout') terminalEvent = event;
        if (this.retainEvents) events.push(this.presentEvent(event));
      }
    };
    const finished = (async () => {
      // The status is decided once the event log is complete: failure details come from it.
      const [, outcome] = await Promise.allSettled([collectEvents(), execution.result]);
      description.stopDate = new Date();
      if (outcome.status === 'fulfilled') {
        description.output = outcome.value;
        description.status = 'SUCCEEDED';
        return;
      }
      const terminal = terminalEvent;
      if (terminal?.type === 'ExecutionAborted') {
        description.status = 'ABORTED';
      } else if (terminal?.type === 'ExecutionTimeout') {
        description.error = 'States.Timeout';
        description.status = 'TIMED_OUT';
      } else {
        if (terminal?.type === 'ExecutionFailed') {
          description.error = terminal.Error;
          description.cause = typeof terminal.Cause === 'string' ? terminal.Cause : JSON.stringify(terminal.Cause);
        } else {
          description.error = 'States.Runtime';
          description.cause = outcome.reason instanceof Error ? outcome.reason.message : String(outcome.reason);
        }
        description.status = 'FAILED';
      }
    })();
    const waits = new AbortController();
    const record: ExecutionRecord = { description, inputJson, events, transitions, finished, abort: execution.abort, waits };
    // A finished execution keeps only what DescribeExecution and waitForExecution return: a `run` of 100,000 emails
    // starts 100 executions, and each one's engine closure held its 1,000-email run until the process ended.
    void finished.finally(() => {
      waits.abort();
      record.abort = () => undefined;
      record.inputJson = undefined;
    });
    return record;
  }

  /** Wait states rewritten into local waits show up as what they are in the definition. */
  private presentEvent(event: ExecutionEvent): ExecutionEvent {
    if ('state' in event && this.prepared.rewrittenWaits.has(event.state.name)) {
      return { ...event, state: { ...event.state, type: 'Wait' } };
    }
    return event;
  }
}
