/**
 * The ordinary build of the `offboard` CLI: one esbuild run, `bin/offboard.ts` → `dist/offboard.js` (+ lazy
 * chunks per command family), dependencies left external but for BUNDLED_PACKAGES. `npm ci` runs it through the `prepare` script, `npm
 * start` and the test suite's global setup run it again, so what runs is what the sources say.
 *
 * The bundle is not standalone: it reads `lib/` (the stack it synthesises), `examples/` and `cdk.json` from the
 * checkout it was built in, located from each source file's own `import.meta.url`. esbuild hoists modules into
 * one scope, where `import.meta.url` would name the chunk; so each file that uses it sees instead the URL of its
 * source, derived at run time from the chunk's URL and the fixed relative path dist/ → source (the checkout can
 * move; only its layout matters).
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, transform, type Plugin } from 'esbuild';

/**
 * Node flags the CLI runs with, from its shebang (`offboard …`, `npx offboard …`, `npm start`). V8 sizes the young
 * generation from the machine's memory (64 MB of semi-spaces on Node 24 here), and a local pipeline allocating
 * per email fills all of it before collecting: 8 MB semi-spaces cut a 2,000-email `run`'s peak RSS from 449 to
 * 342 MB at the same speed (`npm run bench:local -- --cli`; 2 MB was 40 % slower). A runtime
 * `v8.setFlagsFromString` comes too late: the heap is configured when the process starts.
 */
export const CLI_NODE_FLAGS = ['--max-semi-space-size=8'] as const;

export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const DIST_DIR = join(PROJECT_ROOT, 'dist');
export const CLI_BUNDLE = join(DIST_DIR, 'offboard.js');

/**
 * Packages bundled into the CLI instead of loaded from node_modules at run time. zod's package entry loads 80
 * modules, its 40-odd locales among them: 90 ms of every command's start (`node -e "await import('zod')"` 0.18 s
 * against 0.09 s for bare Node), where the few schemas a command uses, bundled, take a few. Only ESM packages
 * without `require` calls qualify (the chunks are ESM, with no `require` to give a bundled CommonJS module).
 */
export const BUNDLED_PACKAGES: ReadonlySet<string> = new Set(['zod']);

/** `@scope/name/sub/path` → `@scope/name`; `name/sub` → `name`. */
function packageOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? specifier);
}

/** Every package import stays external (resolved from node_modules when the CLI runs), except BUNDLED_PACKAGES. */
function externalPackagesPlugin(): Plugin {
  return {
    name: 'external-packages-except-bundled',
    setup(pluginBuild) {
      pluginBuild.onResolve({ filter: /^[^./]/ }, (args) =>
        args.path.startsWith('node:') || BUNDLED_PACKAGES.has(packageOf(args.path)) ? undefined : { path: args.path, external: true },
      );
    },
  };
}

const SOURCE_URL = '__offboardSourceUrl';
const SOURCE_FILE = '__offboardSourceFile';
const SOURCE_DIR = '__offboardSourceDir';

function sourceMetaPlugin(outDir: string): Plugin {
  return {
    name: 'source-import-meta',
    setup(pluginBuild) {
      pluginBuild.onLoad({ filter: /\.ts$/ }, async (args) => {
        const source = readFileSync(args.path, 'utf8');
        if (!source.includes('import.meta')) return undefined;
        // A syntax-aware define: the same text inside a string literal (ProjectFunction's banner) is left alone.
        const result = await transform(source, {
          loader: 'ts',
          format: 'esm',
          target: 'node20',
          sourcefile: args.path,
          sourcemap: 'inline',
          define: { 'import.meta.url': SOURCE_URL, 'import.meta.filename': SOURCE_FILE, 'import.meta.dirname': SOURCE_DIR },
        });
        const fromChunk = relative(outDir, args.path).split('\\').join('/');
        const prelude =
          `import { fileURLToPath as __offboardToPath } from 'node:url';\n` +
          `import { dirname as __offboardDirname } from 'node:path';\n` +
          `const ${SOURCE_URL} = new URL(${JSON.stringify(fromChunk)}, import.meta.url).href;\n` +
          `const ${SOURCE_FILE} = __offboardToPath(${SOURCE_URL});\n` +
          `const ${SOURCE_DIR} = __offboardDirname(${SOURCE_FILE});\n`;
        return { contents: prelude + result.code, loader: 'js', resolveDir: dirname(args.path) };
      });
    },
  };
}

/**
 * Builds into a fresh folder, then swaps it in with renames, so a CLI process still loading lazy chunks from the
 * previous build finds them (it holds the old folder's files open or finds the complete new set).
 */
export async function buildCli(options: { quiet?: boolean } = {}): Promise<string> {
  const temp = `${DIST_DIR}.tmp-${process.pid}-${Date.now()}`;
  mkdirSync(temp, { recursive: true });
  try {
    const result = await build({
      entryPoints: { offboard: join(PROJECT_ROOT, 'bin', 'offboard.ts') },
      absWorkingDir: PROJECT_ROOT,
      bundle: true,
      splitting: true,
      // Chunks beside the entry: the relative source paths above are computed from DIST_DIR.
      chunkNames: '[name]-[hash]',
      format: 'esm',
      platform: 'node',
      target: 'node20',
      sourcemap: 'linked',
      outdir: temp,
      banner: { js: `#!/usr/bin/env -S node ${CLI_NODE_FLAGS.join(' ')}` },
      logLevel: 'warning',
      metafile: true,
      plugins: [externalPackagesPlugin(), sourceMetaPlugin(DIST_DIR)],
    });
    chmodSync(join(temp, 'offboard.js'), 0o755);
    const old = `${DIST_DIR}.old-${process.pid}-${Date.now()}`;
    if (existsSync(DIST_DIR)) renameSync(DIST_DIR, old);
    renameSync(temp, DIST_DIR);
    rmSync(old, { recursive: true, force: true });
    if (!options.quiet) {
      const files = Object.keys(result.metafile.outputs).filter((file) => file.endsWith('.js')).length;
      process.stdout.write(`built ${relative(PROJECT_ROOT, CLI_BUNDLE)} (${files} files)\n`);
    }
    return CLI_BUNDLE;
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await buildCli();
}
