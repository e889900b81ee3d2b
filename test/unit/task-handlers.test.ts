import { describe, expect, it } from 'vitest';
import { WORKFLOW_FUNCTIONS, WORKFLOW_TASKS } from '../../lib/workflow/tasks.js';
import { createWorkflowTaskHandlers } from '../../lambdas/usecases/task-handlers.js';
import { loadRuntimeConfig } from '../../lambdas/core/runtime-config.js';
import { noopMetrics } from '../../lambdas/usecases/ports.js';
import type { Ledger } from '../../lambdas/core/ledger.js';
import { silentLog } from '../support/records.js';

describe('task-name → handler map', () => {
  const deps = {
    config: loadRuntimeConfig({ LEDGER_TABLE_NAME: 'ledger' }),
    ledger: {} as Ledger,
    directory: () => Promise.reject(new Error('unused')),
    clock: () => new Date(0),
    metrics: noopMetrics,
    log: silentLog,
  };

  it('has an in-process handler for every Task state of the definition, and nothing else', () => {
    expect(Object.keys(createWorkflowTaskHandlers(deps)).sort()).toEqual(Object.keys(WORKFLOW_TASKS).sort());
  });

  it('names a handler module exporting `handler` for every Lambda task', async () => {
    for (const [state, binding] of Object.entries(WORKFLOW_TASKS)) {
      if (binding.kind !== 'lambda') continue;
      expect(WORKFLOW_FUNCTIONS[binding.functionId], state).toBe(binding.handlerModule);
      const module = (await import(`../../${binding.handlerModule.replace(/\.ts$/, '.js')}`)) as Record<string, unknown>;
      expect(typeof module[binding.exportName], state).toBe('function');
    }
  });

  it('passes what the SNS task would publish to the alert callback', async () => {
    const alerts: unknown[] = [];
    const handlers = createWorkflowTaskHandlers(deps, { onAlert: (alert) => void alerts.push(alert) });
    await handlers.AlertHeld({ TopicArn: 'arn:topic', Message: 'request r1 is HELD', Subject: 'HELD' });
    expect(alerts).toEqual([{ TopicArn: 'arn:topic', Message: 'request r1 is HELD', Subject: 'HELD' }]);
  });
});
