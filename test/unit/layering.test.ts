/**
 * The layering of lambdas/ (issue 11): use cases and the core take their dependencies as ports, so the local
 * runtime, the CLI and tests run the same rules as the Lambdas without constructing Powertools or SDK clients.
 * - lambdas/usecases/*.ts and lambdas/core/**: no Powertools, no AWS SDK, no `aws-lambda` value (its types are
 *   fine), nothing from lambdas/adapters, lambdas/handlers or lambdas/observability.ts; the core not even the
 *   use cases.
 * - lambdas/handlers/*.ts (the CDK entry files): a few lines each; production wiring lives in handlers/wiring/.
 * - local/cli and local/runtime: not lambdas/observability.ts, which constructs Powertools objects at import.
 * Imports are read with the TypeScript parser: static imports, re-exports and `import()` calls.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const LAMBDAS = join(ROOT, 'lambdas');
const MAX_HANDLER_LINES = 30;

function sourceFiles(dir: string, recursive: boolean): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return recursive ? sourceFiles(path, true) : [];
    return name.endsWith('.ts') && !name.endsWith('.d.ts') ? [path] : [];
  });
}

interface ImportRef {
  specifier: string;
  /** `import type …`, `export type …`, or every named binding marked `type`: erased at compile time. */
  typeOnly: boolean;
}

export function importsOf(file: string, text: string): ImportRef[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
  const refs: ImportRef[] = [];
  for (const statement of source.statements) {
    if (ts.isImportDeclaration(statement) && ts.isStringLiteral(statement.moduleSpecifier)) {
      const clause = statement.importClause;
      const bindings = clause?.namedBindings;
      const allNamedTypes = clause !== undefined && clause.name === undefined && bindings !== undefined && ts.isNamedImports(bindings) &&
        bindings.elements.length > 0 && bindings.elements.every((e) => e.isTypeOnly);
      refs.push({ specifier: statement.moduleSpecifier.text, typeOnly: clause?.isTypeOnly === true || allNamedTypes });
    } else if (ts.isExportDeclaration(statement) && statement.moduleSpecifier && ts.isStringLiteral(statement.moduleSpecifier)) {
      refs.push({ specifier: statement.moduleSpecifier.text, typeOnly: statement.isTypeOnly });
    }
  }
  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const [arg] = node.arguments;
      if (arg !== undefined && ts.isStringLiteralLike(arg)) refs.push({ specifier: arg.text, typeOnly: false });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return refs;
}

/** Why `file` may not import `ref`, or undefined when it may. */
export function forbiddenImport(file: string, ref: ImportRef): string | undefined {
  const { specifier } = ref;
  if (specifier.startsWith('@aws-lambda-powertools/')) return 'Powertools';
  if (specifier.startsWith('@aws-sdk/')) return 'the AWS SDK';
  if (specifier === 'aws-lambda' && !ref.typeOnly) return 'an aws-lambda value (import its types with `import type`)';
  if (!specifier.startsWith('.')) return undefined;
  const target = relative(LAMBDAS, resolve(dirname(file), specifier.replace(/\.js$/, '.ts')));
  if (target.startsWith('adapters/')) return 'an adapter (take a port from usecases/ports.ts)';
  if (target.startsWith('handlers/')) return 'a handler';
  if (target === 'observability.ts') return 'observability.ts (Powertools objects)';
  if (target.startsWith('usecases/') && relative(LAMBDAS, file).startsWith('core/')) return 'a use case (the core sits below them)';
  return undefined;
}

function violations(files: readonly string[]): string[] {
  return files.flatMap((file) =>
    importsOf(file, readFileSync(file, 'utf8')).flatMap((ref) => {
      const why = forbiddenImport(file, ref);
      return why === undefined ? [] : [`${relative(ROOT, file)} imports '${ref.specifier}': ${why}`];
    }),
  );
}

describe('layering of lambdas/', () => {
  it('the check can fail: planted forbidden imports are each reported', () => {
    const file = join(LAMBDAS, 'usecases', 'planted.ts');
    const planted = [
      "import { Logger } from '@aws-lambda-powertools/logger';",
      "import type { SQSClient } from '@aws-sdk/client-sqs';",
      "import { Context } from 'aws-lambda';",
      "import { DynamoLedger } from '../adapters/ledger.js';",
      "export { handler } from '../handlers/start.js';",
      "import { log } from '../observability.js';",
      "const lazy = () => import('../adapters/queue.js');",
    ].join('\n');
    const found = importsOf(file, planted).map((ref) => forbiddenImport(file, ref));
    expect(found.every((why) => why !== undefined)).toBe(true);
    expect(found).toHaveLength(7);
    // Allowed: types of aws-lambda, ports, the core, the Arize client.
    const fine = [
      "import type { SQSEvent } from 'aws-lambda';",
      "import { type SQSRecord } from 'aws-lambda';",
      "import type { Ledger } from './ports.js';",
      "import { planOffboarding } from '../core/planning.js';",
    ].join('\n');
    expect(importsOf(file, fine).map((ref) => forbiddenImport(file, ref))).toEqual([undefined, undefined, undefined, undefined]);
    const coreFile = join(LAMBDAS, 'core', 'planted.ts');
    expect(forbiddenImport(coreFile, { specifier: '../usecases/ports.js', typeOnly: true })).toMatch(/use case/);
  });

  it('use cases and the core import no Powertools, SDK, aws-lambda value, adapter, handler or observability', () => {
    const files = [...sourceFiles(join(LAMBDAS, 'usecases'), false), ...sourceFiles(join(LAMBDAS, 'core'), true)];
    expect(files.some((f) => f.endsWith(join('usecases', 'start.ts')))).toBe(true);
    expect(violations(files)).toEqual([]);
  });

  it('local/cli and local/runtime never import lambdas/observability.ts (masking comes from core/email.ts)', () => {
    const files = [...sourceFiles(join(ROOT, 'local', 'cli'), true), ...sourceFiles(join(ROOT, 'local', 'runtime'), true)];
    expect(files.some((f) => f.endsWith(join('cli', 'log.ts')))).toBe(true);
    const importsObservability = (file: string, text: string) =>
      importsOf(file, text).filter((ref) => ref.specifier.startsWith('.') && resolve(dirname(file), ref.specifier.replace(/\.js$/, '.ts')) === join(LAMBDAS, 'observability.ts'));
    // The check can fail: a planted import in a CLI file is seen.
    const planted = join(ROOT, 'local', 'cli', 'planted.ts');
    expect(importsObservability(planted, "import { maskEmailsDeep } from '../../lambdas/observability.js';")).toHaveLength(1);
    const found = files.flatMap((file) => importsObservability(file, readFileSync(file, 'utf8')).map((ref) => `${relative(ROOT, file)} imports '${ref.specifier}'`));
    expect(found).toEqual([]);
  });

  it(`every Lambda entry file in lambdas/handlers is at most ${MAX_HANDLER_LINES} lines`, () => {
    const handlers = sourceFiles(join(LAMBDAS, 'handlers'), false).filter((f) => !f.endsWith('middleware.ts'));
    expect(handlers.length).toBeGreaterThanOrEqual(10);
    const tooLong = handlers
      .map((file) => ({ file: relative(ROOT, file), lines: readFileSync(file, 'utf8').trimEnd().split('\n').length }))
      .filter((h) => h.lines > MAX_HANDLER_LINES);
    expect(tooLong).toEqual([]);
  });
});
