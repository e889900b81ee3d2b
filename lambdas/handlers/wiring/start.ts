/** Production wiring of the start use case: the workflow's ledger and Step Functions, built once per container. */
import { SFNClient } from '@aws-sdk/client-sfn';
import { SfnExecutionStarter } from '../../adapters/execution-starter.js';
import { log, tracer } from '../../observability.js';
import type { ExecutionStarter } from '../../usecases/ports.js';
import type { StartDeps } from '../../usecases/start.js';
import { getDefaultDeps } from './workflow.js';

let starter: ExecutionStarter | undefined;

export function getDefaultStartDeps(): StartDeps {
  const deps = getDefaultDeps();
  if (!deps.config.stateMachineArn) throw new Error('invalid Lambda environment: STATE_MACHINE_ARN: is required');
  starter ??= new SfnExecutionStarter(deps.config.stateMachineArn, tracer.captureAWSv3Client(new SFNClient({})));
  return { ledger: deps.ledger, starter, clock: deps.clock, log };
}
