/**
 * Defect 1: every function's bundle loads in a fresh Node 24 process that can resolve nothing but the bundle
 * (what the nodejs24.x runtime gives us, minus its preinstalled SDK, which we do not rely on). Prints sizes,
 * cold-import times and the largest packages (`npm run bench:bundles` prints more of them).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BUILTINS_WITHOUT_ESM_FACADE } from '../../lib/constructs/project-function.js';
import { bundleContents, ownerOf } from './bundle-contents.js';
import { coldImport } from './bundles.js';
import { functionsOf, loadTemplate, Resolver } from './template.js';

const COLD_IMPORT_RUNS = 5;
const functions = functionsOf(new Resolver(loadTemplate()));
const figures: { fn: string; kb: number; medianMs: number; largest: string }[] = [];
const TOP_CONTRIBUTORS = 4;

/**
 * Packages replaced by lib/constructs/project-function.ts's aliases (lambdas/bundle-aliases): the credential chain
 * links that cannot answer in Lambda, with the nested clients they build, and `semver`.
 */
const ALIASED_AWAY = ['@aws-sdk/credential-provider-node', '@aws-sdk/credential-provider-sso', '@aws-sdk/credential-provider-ini', '@aws-sdk/credential-provider-process', '@aws-sdk/credential-provider-web-identity', '@aws-sdk/nested-clients', 'semver'];
/** Parts of a package replaced the same way (lambdas/bundle-aliases/event-streams.ts). */
const ALIASED_AWAY_FILES = /node_modules\/@smithy\/core\/dist-es\/submodules\/event-streams\//;

/**
 * What only a function that calls Arize needs (lambdas/handlers/wiring/arize.ts): the client (its HTTP layer, rate
 * control, connection) and its request queue. A function the template gives no Arize key (no
 * ARIZE_API_KEY_SECRET_ID) must not parse them at each cold start; the wire schemas and retry arithmetic that the
 * workflow state and HR intake share with the client (lambdas/arize/wire.ts, retry.ts) may stay.
 */
/** An ESM `import … from "node:http"` (minified or not) of a built-in the bundles must take without a facade. */
const FACADE_IMPORT = new RegExp(`from\\s*["'](node:)?(${BUILTINS_WITHOUT_ESM_FACADE.map((name) => name.replace('/', '\\/')).join('|')})["']`, 'g');

const ARIZE_CLIENT_ONLY = ['lambdas/arize/client.ts', 'lambdas/arize/http.ts', 'lambdas/arize/connection.ts', 'lambdas/arize/rate-limit.ts', 'lambdas/arize/adaptive-rate.ts', 'lambdas/arize/shared-budget.ts', 'p-queue'];

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
      const moduleName = fn.handler.slice(0, fn.handler.lastIndexOf('.'));
      const contents = bundleContents(fn.assetDir, moduleName);
      expect(contents.owners.map((o) => o.owner).filter((owner) => ALIASED_AWAY.includes(owner)), `${fn.logicalId} bundles a replaced package`).toEqual([]);
      const sources = bundleContents(fn.assetDir, moduleName, (source) => source).owners.map((o) => o.owner);
      expect(sources.filter((source) => ALIASED_AWAY_FILES.test(source)), `${fn.logicalId} bundles a replaced module`).toEqual([]);
      const code = readFileSync(path.join(fn.assetDir, `${moduleName}.mjs`), 'utf8');
      expect(code.match(FACADE_IMPORT) ?? [], `${fn.logicalId} imports a built-in through its ESM facade`).toEqual([]);
      if (fn.environment.ARIZE_API_KEY_SECRET_ID === undefined) {
        const own = sources.map((source) => (source.includes('node_modules/') ? ownerOf(source) : source.replace(/^(\.\.\/)+/, '')));
        expect(own.filter((owner) => ARIZE_CLIENT_ONLY.includes(owner)), `${fn.logicalId} never calls Arize but bundles`).toEqual([]);
      }
      const largest = contents.owners.slice(0, TOP_CONTRIBUTORS).map((o) => `${o.owner} ${Math.round(o.bytes / 1024)}`).join(', ');
      figures.push({ fn: fn.logicalId, kb: Math.round(contents.bytes / 1024), medianMs: Math.round(median(times)), largest });
    });
  }

  afterAll(() => {
    if (figures.length === 0) return;
    const lines = figures.map((f) => `  ${f.fn.padEnd(40)} ${String(f.kb).padStart(6)} KB  ${String(f.medianMs).padStart(5)} ms  ${f.largest} KB`);
    console.log(`bundle sizes (without source maps), median cold import (${COLD_IMPORT_RUNS} runs, Node 24), largest packages:\n${lines.join('\n')}`);
  });
});
