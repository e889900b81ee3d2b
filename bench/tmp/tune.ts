import { ArizeUsersClient } from '../../lambdas/arize/index.js';
import { generateDirectory, startSandbox } from '../../local/sandbox/server.js';
const directory = generateDirectory(2000, { seed: 7 });
const n = Number(process.argv[2] ?? 1000);
const rates = (process.argv[3] ?? '200').split(',').map(Number);
const emails = Array.from({ length: n }, (_, i) => directory.slice(1)[Math.floor(i * (1999 / n))]!.email);
for (const R of rates) {
  const sandbox = await startSandbox({ seed: directory, apiKey: 'k', latencyMs: 40, rateLimit: R });
  const client = new ArizeUsersClient({ baseUrl: sandbox.url, apiKey: 'k', env: {} });
  const t0 = performance.now();
  const timer = setInterval(() => process.stderr.write(`${((performance.now()-t0)/1000).toFixed(1)}s rate=${client.rateControl.rate.toFixed(0)} c=${client.rateControl.concurrency} reqs=${sandbox.counters.total} 429=${sandbox.counters.status['429'] ?? 0}\n`), 250);
  const res = await client.bulkDelete({ emails });
  clearInterval(timer);
  const wall = (performance.now() - t0) / 1000;
  const total = sandbox.counters.total, t429 = sandbox.counters.status['429'] ?? 0;
  console.log(`R=${R} n=${n} wall=${wall.toFixed(2)}s reqs=${total} achieved=${(total / wall).toFixed(0)} (${(total / wall / R).toFixed(2)}R) 429=${t429} (${(100 * t429 / total).toFixed(1)}%) deleted=${res.filter(r => r.status === 'deleted').length} est=${client.rateControl.estimatedLimit}`);
  await sandbox.close();
}
