import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';

import type { ExecutionStarter, StartResult } from '../usecases/ports.js';

export type { ExecutionStarter, StartResult };

let sharedSfnClient: SFNClient | undefined;
export function defaultSfnClient(): SFNClient {
  sharedSfnClient ??= new SFNClient({});
  return sharedSfnClient;
}

export class SfnExecutionStarter implements ExecutionStarter {
  constructor(
    private readonly stateMachineArn: string,
    private readonly client: SFNClient = defaultSfnClient(),
  ) {}

  async start(name: string, input: unknown): Promise<StartResult> {
    try {
      const result = await this.client.send(
        new StartExecutionCommand({ stateMachineArn: this.stateMachineArn, name, input: JSON.stringify(input) }),
      );
      return { status: 'started', executionArn: result.executionArn ?? '' };
    } catch (error) {
      // Execution names are unique per state machine for 90 days: the request was already started.
      if (error instanceof ExecutionAlreadyExists || (error as { name?: unknown }).name === 'ExecutionAlreadyExists') {
        return { status: 'duplicate' };
      }
      throw error;
    }
  }
}

/**
 * An ExecutionStarter over any StartExecution-like function (e.g. the local Step Functions engine),
 * with the same duplicate rule as the SDK adapter.
 */
export function executionStarterFrom(
  startExecution: (request: { name: string; input: unknown }) => Promise<{ executionArn?: string }>,
): ExecutionStarter {
  return {
    async start(name, input) {
      try {
        const result = await startExecution({ name, input });
        return { status: 'started', executionArn: result.executionArn ?? '' };
      } catch (error) {
        if ((error as { name?: unknown }).name === 'ExecutionAlreadyExists') return { status: 'duplicate' };
        throw error;
      }
    },
  };
}
