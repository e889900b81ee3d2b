import { build } from 'esbuild';
await build({ entryPoints: [process.argv[3]], bundle: true, platform: 'node', format: 'esm', target: 'node22', minify: process.argv[4]==='min', mainFields: ['module','main'], outfile: `/tmp/bx/${process.argv[2]}.mjs`, metafile: false,
    banner: { js: "import { createRequire as __r } from 'node:module'; const require = __r(import.meta.url);" }, logLevel: 'error' });
