import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExecutionAlreadyExists, ExecutionDoesNotExist, InvalidName } from '@aws-sdk/client-sfn';
import { Duration, Stack, type App } from 'aws-cdk-lib';
import { Code, Function as LambdaFunction, Runtime } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { LambdaInvoke } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { beforeAll, describe, expect, it } from 'vitest';
import { placeholderLambdaArn, synthesizeDefinition, type SynthesizedDefinition } from '../../local/engines/asl.js';
import { countStateTransitions, LocalStepFunctions, type TaskHandler } from '../../local/engines/stepfunctions.js';

/**
 * Engine fixture, not the product's workflow: Prepare → Pause (Wait, SecondsPath) → ProcessItems (Map over
 * ProcessItem, Retry on Custom.Transient, Catch Custom.Permanent → MarkFailed) → Decide (Choice) →
 * Finish (Lambda, Catch States.ALL → RecordFailure) or Done (Succeed).
 */
function buildFixtureStack(app: App): Stack {
  const stack = new Stack(app, 'EngineFixture');
  const inline = (id: string): LambdaFunction =>
    new LambdaFunction(stack, id, { runtime: Runtime.NODEJS_22_X, handler: 'index.handler', code: Code.fromInline('exports.handler = async (e) => e;') });
  // A NodejsFunction proves synthesis skips esbuild bundling: this entry imports a module that does not exist.
  const projectRoot = mkdtempSync(join(tmpdir(), 'asl-fixture-'));
  const entry = join(projectRoot, 'finish.ts');
  writeFileSync(entry, "import 'no-such-module-anywhere';\nexport const handler = async (event: unknown) => event;\n");
  const depsLockFilePath = join(projectRoot, 'package-lock.json');
  writeFileSync(depsLockFilePath, '{}');
  const finishFunction = new NodejsFunction(stack, 'FinishFn', { entry, projectRoot, depsLockFilePath, runtime: Runtime.NODEJS_22_X });

  const prepare = new LambdaInvoke(stack, 'Prepare', { lambdaFunction: inline('PrepareFn'), outputPath: '$.Payload' });
  const pause = new sfn.Wait(stack, 'Pause', { time: sfn.WaitTime.secondsPath('$.delaySeconds') });
  const processItem = new LambdaInvoke(stack, 'ProcessItem', { lambdaFunction: inline('ProcessItemFn'), payloadResponseOnly: true });
  processItem.addRetry({ errors: ['Custom.Transient'], maxAttempts: 2, interval: Duration.seconds(30), backoffRate: 2 });
  processItem.addCatch(new sfn.Pass(stack, 'MarkFailed', { parameters: { 'failed.$': '$.error.Error', 'cause.$': '$.error.Cause' } }), {
    errors: ['Custom.Permanent'],
    resultPath: '$.error',
  });
  const processItems = new sfn.Map(stack, 'ProcessItems', { itemsPath: '$.items', maxConcurrency: 2, resultPath: '$.results' });
  processItems.itemProcessor(processItem);
  const finish = new LambdaInvoke(stack, 'Finish', { lambdaFunction: finishFunction, outputPath: '$.Payload' });
  finish.addCatch(new LambdaInvoke(stack, 'RecordFailure', { lambdaFunction: inline('RecordFailureFn'), payloadResponseOnly: true }), {
    errors: ['States.ALL'],
    resultPath: '$.failure',
  });
  const decide = new sfn.Choice(stack, 'Decide')
    .when(sfn.Condition.booleanEquals('$.finish', true), finish)
    .otherwise(new sfn.Succeed(stack, 'Done'));
  new sfn.StateMachine(stack, 'Machine', {
    definitionBody: sfn.DefinitionBody.fromChainable(prepare.next(pause).next(processItems).next(decide)),
  });
  return stack;
}

class NamedError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

interface ItemInput {
  id: string;
}

interface FixtureInput {
  items: string[];
  delaySeconds?: number;
  finish?: boolean;
}

/** Lets fixtures be written as plain functions; a throw becomes a rejection, as from an async Lambda. */
function task(body: (input: unknown) => unknown): TaskHandler {
  return (input) => Promise.resolve().then(() => body(input));
}

function baseHandlers(overrides: Partial<Record<string, TaskHandler>> = {}): Record<string, TaskHandler> {
  const handlers: Record<string, TaskHandler> = {
    Prepare: task((input) => {
      const request = input as FixtureInput;
      return { items: request.items.map((id) => ({ id })), delaySeconds: request.delaySeconds ?? 0, finish: request.finish ?? false };
    }),
    ProcessItem: task((item) => ({ processed: (item as ItemInput).id })),
    Finish: task((input) => ({ ...(input as object), finished: true })),
    RecordFailure: task((input) => ({ recorded: true, failure: (input as { failure?: unknown }).failure })),
  };
  for (const [name, handler] of Object.entries(overrides)) if (handler !== undefined) handlers[name] = handler;
  return handlers;
}

let synthesized: SynthesizedDefinition;

beforeAll(() => {
  synthesized = synthesizeDefinition(buildFixtureStack);
}, 120_000);

describe('synthesizeDefinition', () => {
  it('resolves the CDK definition into plain ASL with placeholder Lambda ARNs per logical id', () => {
    const { definition, taskStates, serviceTaskStates } = synthesized;
    expect(definition.StartAt).toBe('Prepare');
    expect(Object.keys(taskStates).sort()).toEqual(['Finish', 'Prepare', 'ProcessItem', 'RecordFailure']);
    expect(serviceTaskStates).toEqual({});
    expect(taskStates.Prepare).toMatch(/^PrepareFn[0-9A-F]{8}$/);
    expect(taskStates.Finish).toMatch(/^FinishFn[0-9A-F]{8}$/);
    const states = definition.States as Record<string, Record<string, unknown>>;
    expect(states.Prepare?.Resource).toBe('arn:aws:states:::lambda:invoke');
    expect((states.Prepare?.Parameters as Record<string, unknown>).FunctionName).toBe(placeholderLambdaArn(taskStates.Prepare ?? ''));
    const mapStates = (states.ProcessItems?.ItemProcessor as { States: Record<string, Record<string, unknown>> }).States;
    expect(mapStates.ProcessItem?.Resource).toBe(placeholderLambdaArn(taskStates.ProcessItem ?? ''));
    expect(JSON.stringify(definition)).not.toMatch(/Fn::|"Ref"|\$\{Token/);
  });
});

describe('LocalStepFunctions', () => {
  it('runs Task overrides, the Map and the Choice, and unwraps/wraps the lambda:invoke payload', async () => {
    const engine = new LocalStepFunctions({ definition: synthesized.definition, taskHandlers: baseHandlers(), waitTimeScale: 0 });
    const { executionArn } = await engine.startExecution({ name: 'happy-1', input: { items: ['a', 'b', 'c'], delaySeconds: 3600, finish: true } });
    const result = await engine.waitForExecution(executionArn);
    expect(result.status).toBe('SUCCEEDED');
    expect(result.output).toEqual({
      items: [{ id: 'a' }, { id: 'b' }, { id: 'c' }],
      delaySeconds: 3600,
      finish: true,
      results: [{ processed: 'a' }, { processed: 'b' }, { processed: 'c' }],
      finished: true,
    });
    // Prepare, Pause, ProcessItems, 3× ProcessItem, Decide, Finish.
    expect(countStateTransitions(result.events)).toBe(8);
    expect(result.transitions).toBe(8);
    expect(result.events.find((event) => 'state' in event && event.state.name === 'Pause')).toMatchObject({ state: { type: 'Wait' } });
    expect(engine.describeExecution(executionArn)).toMatchObject({ status: 'SUCCEEDED', name: 'happy-1', input: { items: ['a', 'b', 'c'] } });
  });

  it('retries a custom error name, counts each retry as a transition, and catches another into a Pass', async () => {
    const attempts = new Map<string, number>();
    const engine = new LocalStepFunctions({
      definition: synthesized.definition,
      waitTimeScale: 0,
      taskHandlers: baseHandlers({
        ProcessItem: task((item) => {
          const { id } = item as ItemInput;
          const count = (attempts.get(id) ?? 0) + 1;
          attempts.set(id, count);
          if (id === 'flaky' && count <= 2) throw new NamedError('Custom.Transient', `try ${count}`);
          if (id === 'broken') throw new NamedError('Custom.Permanent', 'user is gone');
          return { processed: id };
        }),
      }),
    });
    const { executionArn } = await engine.startExecution({ name: 'retry-catch', input: { items: ['flaky', 'broken'] } });
    const result = await engine.waitForExecution(executionArn);
    expect(result, JSON.stringify(result.events.filter((event) => event.type.endsWith('Failed')))).toMatchObject({ status: 'SUCCEEDED' });
    const results = (result.output as { results: unknown[] }).results;
    expect(results[0]).toEqual({ processed: 'flaky' });
    expect(results[1]).toMatchObject({ failed: 'Custom.Permanent' });
    expect(JSON.parse((results[1] as { cause: string }).cause)).toMatchObject({ errorType: 'Custom.Permanent', errorMessage: 'user is gone' });
    expect(attempts.get('flaky')).toBe(3);
    expect(attempts.get('broken')).toBe(1);
    expect(result.events.filter((event) => event.type === 'StateRetried')).toHaveLength(2);
    // Prepare, Pause, ProcessItems, ProcessItem ×2 (+2 retries), MarkFailed, Decide, Done.
    expect(countStateTransitions(result.events)).toBe(10);

    const lean = new LocalStepFunctions({ definition: synthesized.definition, waitTimeScale: 0, retainEvents: false, taskHandlers: baseHandlers() });
    const leanResult = await lean.waitForExecution((await lean.startExecution({ input: { items: ['a', 'b'] } })).executionArn);
    expect(leanResult).toMatchObject({ status: 'SUCCEEDED', transitions: 7, events: [] });
  });

  it('retries Lambda.ServiceException by the retrier CDK adds, and gives up after its MaxAttempts', async () => {
    let calls = 0;
    const engine = new LocalStepFunctions({
      definition: synthesized.definition,
      waitTimeScale: 0,
      taskHandlers: baseHandlers({
        Prepare: task(() => {
          calls += 1;
          throw new NamedError('Lambda.ServiceException', 'throttled upstream');
        }),
      }),
    });
    const { executionArn } = await engine.startExecution({ name: 'service-exception', input: { items: [] } });
    const result = await engine.waitForExecution(executionArn);
    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('Lambda.ServiceException');
    expect(JSON.parse(result.cause ?? '{}')).toMatchObject({ errorMessage: 'throttled upstream' });
    expect(calls).toBe(7); // first try + MaxAttempts 6
  });

  it('catches any error of a Task into a recording state (States.ALL)', async () => {
    const engine = new LocalStepFunctions({
      definition: synthesized.definition,
      waitTimeScale: 0,
      taskHandlers: baseHandlers({
        Finish: task(() => {
          throw new TypeError('bad shape');
        }),
      }),
    });
    const { executionArn } = await engine.startExecution({ name: 'caught', input: { items: [], finish: true } });
    const result = await engine.waitForExecution(executionArn);
    expect(result.status).toBe('SUCCEEDED');
    expect(result.output).toMatchObject({ recorded: true, failure: { Error: 'TypeError' } });
    expect(JSON.parse((result.output as { failure: { Cause: string } }).failure.Cause)).toMatchObject({ errorMessage: 'bad shape' });
    expect(result.events.some((event) => event.type === 'StateCaught' && event.state.name === 'Finish')).toBe(true);
  });

  it('scales Wait durations (SecondsPath) and Retry intervals by waitTimeScale instead of skipping them', async () => {
    let flakyCalls = 0;
    const engine = new LocalStepFunctions({
      definition: synthesized.definition,
      waitTimeScale: 0.01,
      taskHandlers: baseHandlers({
        ProcessItem: task(() => {
          flakyCalls += 1;
          if (flakyCalls === 1) throw new NamedError('Custom.Transient', 'once');
          return { processed: true };
        }),
      }),
    });
    const { executionArn } = await engine.startExecution({ input: { items: ['x'], delaySeconds: 20 } });
    const result = await engine.waitForExecution(executionArn);
    expect(result.status).toBe('SUCCEEDED');
    const at = (type: string, name: string): number =>
      result.events.find((event) => event.type === type && 'state' in event && event.state.name === name)?.timestamp ?? Number.NaN;
    // Wait: 20 s × 0.01 = 200 ms; Retry: IntervalSeconds 30 × 0.01 = 300 ms. Lower bounds only: a loaded machine is slower, never faster.
    expect(at('StateExited', 'Pause') - at('StateEntered', 'Pause')).toBeGreaterThanOrEqual(195);
    expect(at('StateRetried', 'ProcessItem') - at('StateFailed', 'ProcessItem')).toBeGreaterThanOrEqual(295);
  });

  it('applies StartExecution name idempotency: same input while running ⇒ same execution, otherwise ExecutionAlreadyExists', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let prepareCalls = 0;
    const engine = new LocalStepFunctions({
      definition: synthesized.definition,
      waitTimeScale: 0,
      taskHandlers: baseHandlers({
        Prepare: async (input) => {
          prepareCalls += 1;
          await gate;
          return { items: (input as FixtureInput).items.map((id) => ({ id })), delaySeconds: 0, finish: false };
        },
      }),
    });
    const input = { items: ['a'] };
    const first = await engine.startExecution({ name: 'req-123', input });
    const again = await engine.startExecution({ name: 'req-123', input: { items: ['a'] } });
    expect(again.executionArn).toBe(first.executionArn);
    await expect(engine.startExecution({ name: 'req-123', input: { items: ['b'] } })).rejects.toBeInstanceOf(ExecutionAlreadyExists);
    expect(engine.describeExecution(first.executionArn).status).toBe('RUNNING');
    release();
    expect((await engine.waitForExecution(first.executionArn)).status).toBe('SUCCEEDED');
    // A finished execution's name cannot be reused, whatever the input (Standard workflows).
    await expect(engine.startExecution({ name: 'req-123', input })).rejects.toBeInstanceOf(ExecutionAlreadyExists);
    expect(prepareCalls).toBe(1);
    expect(engine.listExecutions()).toHaveLength(1);
  });

  it('rejects names Step Functions would reject, and unknown executions', async () => {
    const engine = new LocalStepFunctions({ definition: synthesized.definition, taskHandlers: baseHandlers(), waitTimeScale: 0 });
    for (const name of ['', 'a'.repeat(81), 'has space', 'a/b', 'x*y', 'tab\tname']) {
      await expect(engine.startExecution({ name, input: { items: [] } })).rejects.toBeInstanceOf(InvalidName);
    }
    const longest = await engine.startExecution({ name: 'a'.repeat(80), input: { items: [] } });
    expect(longest.executionArn).toBe(`arn:aws:states:us-east-1:000000000000:execution:local:${'a'.repeat(80)}`);
    expect(() => engine.describeExecution('arn:aws:states:us-east-1:000000000000:execution:local:nope')).toThrow(ExecutionDoesNotExist);
    await engine.waitForIdle();
  });

  it('refuses to run a Task without a handler (it would call AWS) and names it', () => {
    const handlers = baseHandlers();
    delete handlers.ProcessItem;
    expect(() => new LocalStepFunctions({ definition: synthesized.definition, taskHandlers: { ...handlers, Typo: task(() => null) } })).toThrow(
      /no handler for Task state\(s\): ProcessItem; handler\(s\) for unknown Task state\(s\): Typo/,
    );
  });

  it('fails a Task whose result exceeds the 256 KB state payload limit with States.DataLimitExceeded', async () => {
    const engine = new LocalStepFunctions({
      definition: synthesized.definition,
      waitTimeScale: 0,
      taskHandlers: baseHandlers({ ProcessItem: task(() => ({ blob: 'x'.repeat(300_000) })) }),
    });
    const { executionArn } = await engine.startExecution({ input: { items: ['a'] } });
    const result = await engine.waitForExecution(executionArn);
    expect(result).toMatchObject({ status: 'FAILED', error: 'States.DataLimitExceeded' });
  });
});

describe('LocalStepFunctions Wait until a timestamp', () => {
  // Hand-written two-state fixture: the CDK fixture above has no TimestampPath wait.
  const waitUntil = {
    StartAt: 'WaitUntilEffective',
    States: {
      WaitUntilEffective: { Type: 'Wait', TimestampPath: '$.effectiveAt', Next: 'Act' },
      Act: { Type: 'Task', Resource: placeholderLambdaArn('ActFn'), End: true },
    },
  };

  it('skips a far-future TimestampPath wait at scale 0 and fails on a malformed timestamp like Step Functions', async () => {
    const engine = new LocalStepFunctions({ definition: waitUntil, waitTimeScale: 0, taskHandlers: { Act: task((input) => ({ acted: input })) } });
    const effectiveAt = new Date(Date.now() + 365 * 24 * 3600 * 1000).toISOString();
    const ok = await engine.waitForExecution((await engine.startExecution({ input: { effectiveAt } })).executionArn);
    expect(ok).toMatchObject({ status: 'SUCCEEDED', output: { acted: { effectiveAt } } });
    expect(ok.events.find((event) => event.type === 'StateEntered' && event.state.name === 'WaitUntilEffective')).toMatchObject({ state: { type: 'Wait' } });
    const bad = await engine.waitForExecution((await engine.startExecution({ input: { effectiveAt: 'next tuesday' } })).executionArn);
    expect(bad).toMatchObject({ status: 'FAILED', error: 'States.Runtime' });
  });

  it('at real time (scale 1) never runs past a TimestampPath wait before its timestamp, even beyond the setTimeout ceiling', async () => {
    const acted: number[] = [];
    const engine = new LocalStepFunctions({ definition: waitUntil, taskHandlers: { Act: task(() => (acted.push(Date.now()), null)) } });
    // 30 days: the engine's own Wait would overflow setTimeout (~24.8 days) and fire at once.
    const far = await engine.startExecution({ name: 'far', input: { effectiveAt: new Date(Date.now() + 30 * 86_400_000).toISOString() } });
    const soonAt = Date.now() + 1_500;
    const soon = await engine.startExecution({ name: 'soon', input: { effectiveAt: new Date(soonAt).toISOString() } });
    expect((await engine.waitForExecution(soon.executionArn)).status).toBe('SUCCEEDED');
    expect(acted).toHaveLength(1);
    expect(acted[0]).toBeGreaterThanOrEqual(soonAt);
    expect(engine.describeExecution(far.executionArn).status).toBe('RUNNING');
    await engine.stopExecution(far.executionArn);
    expect(engine.describeExecution(far.executionArn).status).toBe('ABORTED');
    expect(acted).toHaveLength(1);
  });

  it('activeExecutions counts RUNNING executions at work, not those sleeping in a Wait', async () => {
    let release: () => void = () => undefined;
    const acting = new Promise<void>((resolve) => (release = resolve));
    let entered: () => void = () => undefined;
    const actEntered = new Promise<void>((resolve) => (entered = resolve));
    const engine = new LocalStepFunctions({
      definition: waitUntil,
      taskHandlers: {
        Act: () => {
          entered();
          return acting.then(() => null);
        },
      },
    });
    const later = new Date(Date.now() + 3600 * 1000).toISOString();
    const sleeper = await engine.startExecution({ name: 'sleeps', input: { effectiveAt: later } });
    const worker = await engine.startExecution({ name: 'works', input: { effectiveAt: new Date(Date.now() - 1000).toISOString() } });
    await actEntered;
    // The sleeper enters its Wait asynchronously: give it until then (bounded), then both must hold.
    for (let i = 0; i < 500 && engine.activeExecutions() !== 1; i += 1) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(engine.listExecutions({ status: 'RUNNING' })).toHaveLength(2);
    expect(engine.activeExecutions()).toBe(1);
    release();
    await engine.waitForExecution(worker.executionArn);
    expect(engine.activeExecutions()).toBe(0);
    await engine.stopExecution(sleeper.executionArn);
    expect(engine.activeExecutions()).toBe(0);
  });

  it('stopExecution aborts a running execution', async () => {
    const engine = new LocalStepFunctions({ definition: waitUntil, taskHandlers: { Act: task(() => null) } });
    const effectiveAt = new Date(Date.now() + 3600 * 1000).toISOString();
    const { executionArn } = await engine.startExecution({ name: 'to-stop', input: { effectiveAt } });
    await engine.stopExecution(executionArn);
    expect(engine.describeExecution(executionArn).status).toBe('ABORTED');
    expect((await engine.waitForExecution(executionArn)).status).toBe('ABORTED');
  });
});
