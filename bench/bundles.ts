/**
 * `npm run bench:bundles` — per Lambda function of the synthesised stack (cdk.out, as deployed): bundle size,
 * median cold import on Node 24 (the deploy suite's worker: isolated copy, template environment) and the
 * packages that make up the bundle, largest first. Prints figures; asserts nothing.
 * `-- --top 8 --runs 5`; run `npx cdk synth -q` first (the npm script does).
 */
import { bundleContents } from '../test/deploy/bundle-contents.js';
import { coldImport } from '../test/deploy/bundles.js';
import { functionsOf, loadTemplate, Resolver } from '../test/deploy/template.js';

function arg(name: string, fallback: string): string {
  const index = process.argv.indexOf(name);
  return (index >= 0 ? process.argv[index + 1] : undefined) ?? fallback;
}

const TOP = Number(arg('--top', '8'));
const RUNS = Number(arg('--runs', '5'));
const kb = (bytes: number) => `${(bytes / 1024).toFixed(0)} KB`;

const functions = functionsOf(new Resolver(loadTemplate())).sort((a, b) => a.logicalId.localeCompare(b.logicalId));
const rows: string[] = [];
for (const fn of functions) {
  const contents = bundleContents(fn.assetDir, fn.handler.slice(0, fn.handler.lastIndexOf('.')));
  const times: number[] = [];
  for (let run = 0; run < RUNS; run += 1) {
    const init = await coldImport(fn);
    if (!init.ok || init.initMs === undefined) throw new Error(`${fn.logicalId} failed at init: ${init.error?.message ?? ''}`);
    times.push(init.initMs);
  }
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)]!;
  const top = contents.owners.slice(0, TOP).map((o) => `${o.owner} ${kb(o.bytes)}`).join(', ');
  rows.push(`| ${fn.logicalId} | ${kb(contents.bytes)} | ${median.toFixed(0)} ms | ${top} |`);
  console.error(`${fn.logicalId}: ${kb(contents.bytes)}, ${median.toFixed(0)} ms`);
}
console.log(`\nbundle (without source map), median of ${RUNS} cold imports on Node 24, top ${TOP} contributors:\n`);
console.log('| function | bundle | median cold import | largest contributors |');
console.log('| --- | --- | --- | --- |');
for (const row of rows) console.log(row);
