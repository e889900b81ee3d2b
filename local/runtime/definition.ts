/**
 * The state machine definition the local runtime runs: synthesised from ArizeOffboardingStack (never a
 * hand-written copy). Synthesis costs seconds, so the result is cached on disk, keyed by a hash of
 * everything that can change it: the sources under lib/ and lambdas/core/, the synthesis code, the
 * aws-cdk-lib version and the configuration. Any edit to those ⇒ a new key ⇒ a fresh synthesis.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import type { OffboardingConfig } from '../../lib/config.js';
import type { CloudFormationTemplate, SynthesizedDefinition } from '../engines/asl.js';
import { PROJECT_ROOT } from './config.js';

/** What the synthesised definition depends on, besides the configuration. */
const DEFINITION_SOURCES = ['lib', join('lambdas', 'core'), join('local', 'engines', 'asl.ts'), join('local', 'runtime', 'definition.ts')];
const CACHE_FORMAT = 2;

export interface WorkflowDefinition extends SynthesizedWorkflow {
  /** Cache key (sha256 hex). */
  key: string;
  /** `cache` when read from disk, `synthesized` when built now. */
  source: 'cache' | 'synthesized';
  /** Time spent getting it (synthesis or cache read). */
  millis: number;
}

export interface LoadDefinitionOptions {
  config: OffboardingConfig;
  /** Folder for cached definitions; default `<os tmp>/arize-offboarding-asl`. `false` disables the cache. */
  cacheDir?: string | false;
}

function sourceFiles(path: string): string[] {
  const absolute = join(PROJECT_ROOT, path);
  let entries;
  try {
    entries = readdirSync(absolute, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOTDIR') return [absolute];
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return entries.flatMap((entry) => {
    const child = join(path, entry.name);
    if (entry.isDirectory()) return sourceFiles(child);
    return entry.name.endsWith('.ts') ? [join(PROJECT_ROOT, child)] : [];
  });
}

function cdkVersion(): string {
  try {
    const manifest = JSON.parse(readFileSync(join(PROJECT_ROOT, 'node_modules', 'aws-cdk-lib', 'package.json'), 'utf8')) as { version?: string };
    return manifest.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

export function definitionCacheKey(config: OffboardingConfig): string {
  const hash = createHash('sha256');
  hash.update(`format:${CACHE_FORMAT}\ncdk:${cdkVersion()}\nconfig:${JSON.stringify(config)}\n`);
  const files = DEFINITION_SOURCES.flatMap(sourceFiles).sort();
  for (const file of files) {
    hash.update(`${relative(PROJECT_ROOT, file)}\n`);
    hash.update(readFileSync(file));
    hash.update('\n');
  }
  return hash.digest('hex');
}

export const DEFAULT_DEFINITION_CACHE_DIR = join(tmpdir(), 'arize-offboarding-asl');

function readCached(path: string): SynthesizedWorkflow | undefined {
  try {
    const cached = JSON.parse(readFileSync(path, 'utf8')) as Partial<SynthesizedWorkflow>;
    if (typeof cached.definition !== 'object' || cached.definition === null || typeof cached.taskStates !== 'object') return undefined;
    if (typeof cached.intake !== 'object' || cached.intake === null) return undefined;
    return cached as SynthesizedWorkflow;
  } catch {
    // Missing or corrupt (e.g. a crash mid-write by an older version): synthesise again.
    return undefined;
  }
}

/** The intake settings of the stack, read from its template so the local queue and poller match it. */
export interface IntakeSettings {
  maxReceiveCount: number;
  visibilityTimeoutSeconds: number;
  batchSize: number;
  maxBatchingWindowSeconds: number;
  maxConcurrency: number;
}

interface TemplateResource {
  Type?: string;
  Properties?: Record<string, unknown>;
}

function numberAt(value: unknown, what: string): number {
  const parsed = typeof value === 'string' ? Number(value) : value;
  if (typeof parsed !== 'number' || !Number.isFinite(parsed)) throw new Error(`local runtime: the stack template has no usable ${what}`);
  return parsed;
}

/** The queue with a redrive policy and the event source mapping reading it (the stack has exactly one of each). */
export function intakeSettingsFromTemplate(template: { Resources?: Record<string, TemplateResource> }): IntakeSettings {
  const resources = Object.values(template.Resources ?? {});
  const queues = resources.filter((r) => r.Type === 'AWS::SQS::Queue' && r.Properties?.RedrivePolicy !== undefined);
  const mappings = resources.filter((r) => r.Type === 'AWS::Lambda::EventSourceMapping');
  if (queues.length !== 1 || mappings.length !== 1) {
    throw new Error(`local runtime: expected one intake queue with a DLQ and one event source mapping, found ${queues.length} and ${mappings.length}`);
  }
  const queue = queues[0]?.Properties ?? {};
  const mapping = mappings[0]?.Properties ?? {};
  const redrive = queue.RedrivePolicy as { maxReceiveCount?: unknown };
  const scaling = mapping.ScalingConfig as { MaximumConcurrency?: unknown } | undefined;
  return {
    maxReceiveCount: numberAt(redrive.maxReceiveCount, 'RedrivePolicy.maxReceiveCount'),
    visibilityTimeoutSeconds: numberAt(queue.VisibilityTimeout, 'VisibilityTimeout'),
    batchSize: numberAt(mapping.BatchSize ?? 10, 'BatchSize'),
    maxBatchingWindowSeconds: numberAt(mapping.MaximumBatchingWindowInSeconds ?? 0, 'MaximumBatchingWindowInSeconds'),
    maxConcurrency: numberAt(scaling?.MaximumConcurrency ?? 2, 'ScalingConfig.MaximumConcurrency'),
  };
}

export interface SynthesizedWorkflow extends SynthesizedDefinition {
  intake: IntakeSettings;
}

/**
 * Synthesises ArizeOffboardingStack with `config` the way `synthesizeDefinition` does (fresh App, bundling
 * off, own temporary outdir), keeping the template for the intake settings. CDK is loaded only here, so a
 * cache hit never pays for it.
 */
export async function synthesizeWorkflowDefinition(config: OffboardingConfig): Promise<SynthesizedWorkflow> {
  const [{ definitionFromTemplate }, { ArizeOffboardingStack }, { App }] = await Promise.all([
    import('../engines/asl.js'),
    import('../../lib/arize-offboarding-stack.js'),
    import('aws-cdk-lib'),
  ]);
  const outdir = mkdtempSync(join(tmpdir(), 'offboard-synth-'));
  try {
    const app = new App({ outdir, context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new ArizeOffboardingStack(app, 'ArizeOffboardingLocal', { config });
    const template = app.synth().getStackArtifact(stack.artifactId).template as CloudFormationTemplate & {
      Resources?: Record<string, TemplateResource>;
    };
    return { ...definitionFromTemplate(template), intake: intakeSettingsFromTemplate(template) };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

export async function loadWorkflowDefinition(options: LoadDefinitionOptions): Promise<WorkflowDefinition> {
  const started = performance.now();
  const key = definitionCacheKey(options.config);
  const cacheDir = options.cacheDir === undefined ? DEFAULT_DEFINITION_CACHE_DIR : options.cacheDir;
  const cachePath = cacheDir === false ? undefined : join(cacheDir, `asl-${key.slice(0, 32)}.json`);
  if (cachePath !== undefined) {
    const cached = readCached(cachePath);
    if (cached) return { ...cached, key, source: 'cache', millis: performance.now() - started };
  }
  const synthesized = await synthesizeWorkflowDefinition(options.config);
  if (cacheDir !== false && cachePath !== undefined) {
    try {
      mkdirSync(cacheDir, { recursive: true });
      // Write then rename: a concurrent reader sees the old file or the whole new one, never half.
      const temporary = `${cachePath}.${process.pid}.tmp`;
      writeFileSync(temporary, JSON.stringify(synthesized));
      renameSync(temporary, cachePath);
    } catch {
      // A read-only or full disk only costs the next start another synthesis.
    }
  }
  return { ...synthesized, key, source: 'synthesized', millis: performance.now() - started };
}
