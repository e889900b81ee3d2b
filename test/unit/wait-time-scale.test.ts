import { describe, expect, it } from 'vitest';
import { DEFAULT_WAIT_TIME_SCALE, effectiveWaitTimeScale, startLocalRuntime, WaitTimeScaleError } from '../../local/runtime/index.js';

const external = { mode: 'external', apiKey: 'k', host: '127.0.0.1', scheme: 'http', port: 9 } as const;

describe('shortened waits are a demo device of the built-in sandbox', () => {
  it('scales waits only with the sandbox the runtime starts itself', () => {
    expect(effectiveWaitTimeScale({ mode: 'sandbox' }, undefined)).toBe(DEFAULT_WAIT_TIME_SCALE);
    expect(effectiveWaitTimeScale({ mode: 'sandbox' }, 0)).toBe(0);
    expect(effectiveWaitTimeScale(external, undefined)).toBe(1);
    expect(effectiveWaitTimeScale(external, 1)).toBe(1);
  });

  it('refuses any other scale against an external Arize, before starting anything', async () => {
    for (const scale of [0, 0.001, 0.5, 2]) expect(() => effectiveWaitTimeScale(external, scale)).toThrow(WaitTimeScaleError);
    expect(() => effectiveWaitTimeScale({ mode: 'sandbox' }, -1)).toThrow(/finite number >= 0/);
    await expect(startLocalRuntime({ inMemory: true, arize: external, waitTimeScale: 0.001 })).rejects.toThrow(/only with the built-in demo sandbox/);
  });
});
