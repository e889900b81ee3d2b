/**
 * Defect 1: every function's bundle loads in a fresh Node 24 process that can resolve nothing but the bundle
 * (what the nodejs24.x runtime gives us, minus its preinstalled SDK, which we do not rely on). Prints sizes and
 * cold-import times.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { bundleBytes, coldImport } from './bundles.js';
import { functionsOf, loadTemplate, Resolver } from './template.js';

const COLD_IMPORT_RUNS = 5;
const functions = functionsOf(new Resolver(loadTemplate()));
const figures: { fn: string; kb: number; medianMs: number }[] = [];

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

describe('every bundle initialises with only what the Lambda runtime provides', () => {
  it('finds the functions of the stack with their bundles', () => {
    expect(functions.map((f) => f.logicalId).length).toBeGreaterThanOrEqual(9);
  });

  for (const fn of functions) {
    it(`${fn.logicalId}: ${fn.handler} imports without error`, async () => {
      const times: number[] = [];
      for (let run = 0; run < COLD_IMPORT_RUNS; run += 1) {
        const result = await coldImport(fn);
        expect(result.error, `${fn.logicalId} init error`).toBeUndefined();
        expect(result.ok).toBe(true);
        times.push(result.initMs!);
      }
      figures.push({ fn: fn.logicalId, kb: Math.round(bundleBytes(fn.assetDir) / 1024), medianMs: Math.round(median(times)) });
    });
  }

  afterAll(() => {
    if (figures.length === 0) return;
    const lines = figures.map((f) => `  ${f.fn.padEnd(40)} ${String(f.kb).padStart(6)} KB  ${String(f.medianMs).padStart(5)} ms`);
    console.log(`bundle sizes (without source maps) and median cold import (${COLD_IMPORT_RUNS} runs, Node 24):\n${lines.join('\n')}`);
  });
});
