import { build } from 'esbuild';
await build({ stdin: { contents: process.argv[3], resolveDir: '/work/wt-bundle', loader: 'ts' }, bundle: true, platform: 'node', format: 'esm', target: 'node22', minify: false, mainFields: ['module','main'], outfile: `/tmp/bx/${process.argv[2]}.mjs`,
    banner: { js: "import { createRequire as __r } from 'node:module'; const require = __r(import.meta.url);" }, logLevel: 'error' });
