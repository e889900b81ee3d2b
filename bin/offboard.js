#!/usr/bin/env node
// Installed entry point. Compiling the TypeScript CLI through tsx on every run costs ~0.5 s, so
// this launcher runs an esbuild bundle of our own code (node_modules stay external and load
// natively), cached under node_modules/.cache and rebuilt whenever it could be stale:
//   - the manifest records the size and mtime of every file that went into the bundle; any
//     difference (edited, replaced, copied with an older mtime, deleted) means a rebuild;
//   - a build whose inputs changed while it ran is recorded as stale, so the next run rebuilds;
//   - concurrent runs build into private temp directories and publish with atomic renames
//     (bundle directory named by content hash, then the manifest), so a reader sees either the
//     old complete manifest or the new complete one, never a half-written bundle.
// If esbuild is missing or the build fails, the CLI still runs, through tsx.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const ENTRY = join(REPO_ROOT, 'bin', 'offboard.ts');
const CACHE_DIR = join(REPO_ROOT, 'node_modules', '.cache', 'arize-offboarding');
const MANIFEST = join(CACHE_DIR, 'offboard.manifest.json');
/** Bump when the build options change, so bundles from an older launcher are never reused. */
const BUILD_FORMAT = 2;
/** Superseded bundle directories are removed once no run can plausibly still be loading them. */
const PRUNE_AFTER_MS = 10 * 60_000;

function fingerprint(path) {
  try {
    const stat = statSync(path);
    return `${stat.size}:${stat.mtimeMs}`;
  } catch {
    return 'missing';
  }
}

/** The bundle's entry file when the cached build matches every input exactly, else undefined. */
function freshBundle() {
  let manifest;
  try {
    manifest = JSON.parse(readFileSync(MANIFEST, 'utf8'));
  } catch {
    return undefined;
  }
  if (manifest?.format !== BUILD_FORMAT || typeof manifest.bundle !== 'string' || typeof manifest.inputs !== 'object') {
    return undefined;
  }
  for (const [file, recorded] of Object.entries(manifest.inputs)) {
    if (fingerprint(join(REPO_ROOT, file)) !== recorded) return undefined;
  }
  const entry = join(CACHE_DIR, manifest.bundle, 'offboard.js');
  if (fingerprint(entry) === 'missing') return undefined;
  // Pruning goes by the folder's mtime: mark it used so a concurrent rebuild never deletes a bundle
  // whose lazy chunks this run has still to load.
  try {
    const now = new Date();
    utimesSync(join(CACHE_DIR, manifest.bundle), now, now);
  } catch {
    return undefined;
  }
  return entry;
}

/**
 * esbuild bundles modules into one scope, so `import.meta.url` would name the bundle instead of
 * the source file (PROJECT_ROOT, createRequire, example paths all derive from it). Files that
 * use it are pre-compiled with their own URL defined in; a syntax-aware define, so the same
 * text inside a string literal is left alone.
 */
function sourceMetaPlugin(esbuild) {
  return {
    name: 'source-import-meta',
    setup(build) {
      build.onLoad({ filter: /\.ts$/ }, async (args) => {
        const source = readFileSync(args.path, 'utf8');
        if (!source.includes('import.meta')) return undefined;
        const result = await esbuild.transform(source, {
          loader: 'ts',
          format: 'esm',
          target: 'node20',
          sourcefile: args.path,
          sourcemap: 'inline',
          define: {
            'import.meta.url': JSON.stringify(pathToFileURL(args.path).href),
            'import.meta.filename': JSON.stringify(args.path),
            'import.meta.dirname': JSON.stringify(dirname(args.path)),
          },
        });
        return { contents: result.code, loader: 'js', resolveDir: dirname(args.path) };
      });
    },
  };
}

function pruneOldBundles(keep) {
  let entries;
  try {
    entries = readdirSync(CACHE_DIR, { withFileTypes: true });
  } catch {
    return;
  }
  const now = Date.now();
  for (const entry of entries) {
    if (entry.name === keep || !(entry.name.startsWith('bundle-') || entry.name.startsWith('tmp-'))) continue;
    const path = join(CACHE_DIR, entry.name);
    try {
      if (now - statSync(path).mtimeMs > PRUNE_AFTER_MS) rmSync(path, { recursive: true, force: true });
    } catch {
      // Another run pruned it first.
    }
  }
}

async function buildAndPublish() {
  const esbuild = await import('esbuild');
  const startedAt = Date.now();
  const result = await esbuild.build({
    entryPoints: { offboard: ENTRY },
    absWorkingDir: REPO_ROOT,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    sourcemap: 'linked',
    outdir: join(CACHE_DIR, 'out'),
    write: false,
    metafile: true,
    logLevel: 'silent',
    plugins: [sourceMetaPlugin(esbuild)],
  });

  const inputs = {};
  for (const file of Object.keys(result.metafile.inputs)) {
    // An input edited while esbuild read it may be in the bundle in its old form: record it as
    // stale so the next run rebuilds rather than trusting this bundle forever.
    const absolute = resolve(REPO_ROOT, file);
    const print = fingerprint(absolute);
    const modified = print === 'missing' ? Infinity : statSync(absolute).mtimeMs;
    // File times come from a coarse clock: a 2 s margin costs at most one extra rebuild.
    inputs[relative(REPO_ROOT, absolute)] = modified >= startedAt - 2000 ? 'changed-during-build' : print;
  }

  const hash = createHash('sha256');
  for (const file of result.outputFiles) hash.update(relative(join(CACHE_DIR, 'out'), file.path)).update(file.contents);
  const bundleName = `bundle-${hash.digest('hex').slice(0, 16)}`;
  const bundleDir = join(CACHE_DIR, bundleName);

  mkdirSync(CACHE_DIR, { recursive: true });
  if (fingerprint(join(bundleDir, 'offboard.js')) === 'missing') {
    const temp = join(CACHE_DIR, `tmp-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}`);
    for (const file of result.outputFiles) {
      const target = join(temp, relative(join(CACHE_DIR, 'out'), file.path));
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, file.contents);
    }
    try {
      renameSync(temp, bundleDir);
    } catch (error) {
      // A concurrent run published the same content first: theirs is identical, keep it.
      rmSync(temp, { recursive: true, force: true });
      if (fingerprint(join(bundleDir, 'offboard.js')) === 'missing') throw error;
    }
  }

  const manifestTemp = `${MANIFEST}.${process.pid}.${Math.random().toString(36).slice(2)}`;
  writeFileSync(manifestTemp, JSON.stringify({ format: BUILD_FORMAT, bundle: bundleName, inputs }));
  renameSync(manifestTemp, MANIFEST);
  pruneOldBundles(bundleName);
  return join(bundleDir, 'offboard.js');
}

async function bundledEntry() {
  if (process.env.OFFBOARD_NO_BUNDLE === '1') return undefined;
  const fresh = freshBundle();
  if (fresh) return fresh;
  try {
    return await buildAndPublish();
  } catch (error) {
    if (process.env.OFFBOARD_DEBUG_BUNDLE === '1') {
      process.stderr.write(`offboard: bundling failed, running through tsx: ${error instanceof Error ? error.message : String(error)}\n`);
    }
    return undefined;
  }
}

const entry = await bundledEntry();
if (entry) {
  process.setSourceMapsEnabled(true);
  await import(pathToFileURL(entry).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('./offboard.ts');
}
