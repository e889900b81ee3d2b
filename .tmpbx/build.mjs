import { build } from 'esbuild';
const entries = {
  tracer: "import { Tracer } from '@aws-lambda-powertools/tracer'; export const t = new Tracer({serviceName:'x'});",
  logger: "import { Logger } from '@aws-lambda-powertools/logger'; export const l = new Logger();",
  metrics: "import { Metrics } from '@aws-lambda-powertools/metrics'; export const m = new Metrics({namespace:'x'});",
  ddb: "import { DynamoDBClient } from '@aws-sdk/client-dynamodb'; import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'; export const c = DynamoDBDocumentClient.from(new DynamoDBClient({}));",
  ddbonly: "import { DynamoDBClient } from '@aws-sdk/client-dynamodb'; export const c = DynamoDBClient;",
  zod: "import * as z from 'zod'; export const s = z.object({a: z.string()});",
  xray: "import * as x from 'aws-xray-sdk-core'; export default x;",
  empty: "export const a = 1;",
};
for (const [name, contents] of Object.entries(entries)) {
  await build({ stdin: { contents, resolveDir: process.cwd(), loader: 'ts' }, bundle: true, platform: 'node', format: 'esm', target: 'node22', minify: true, mainFields: ['module','main'], outfile: `/tmp/bx/${name}.mjs`,
    banner: { js: "import { createRequire as __r } from 'node:module'; const require = __r(import.meta.url);" }, logLevel: 'error' });
}
