import { mkdtempSync, readdirSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import { OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProjectFunction } from '../../lib/constructs/project-function.js';
import { actionsOf, logicalIdOf, SKIP_BUNDLING, statementsForRole, statementsWithAction } from './helpers.js';

const fixtureEntry = fileURLToPath(new URL('./fixtures/echo-handler.ts', import.meta.url));

describe('ProjectFunction defaults, merging and bindings (bundling skipped)', () => {
  let template: Template;
  let readerRoleId: string;
  let writerRoleId: string;
  let fullRoleId: string;
  let table: dynamodb.Table;
  let stateMachine: sfn.StateMachine;
  let topic: sns.Topic;
  let secret: secretsmanager.Secret;
  let reader: ProjectFunction;
  let writer: ProjectFunction;
  let full: ProjectFunction;

  beforeAll(() => {
    const app = new App({ context: SKIP_BUNDLING });
    const stack = new Stack(app, 'ProjectFunctionTest');
    table = new dynamodb.Table(stack, 'Table', { partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING } });
    secret = new secretsmanager.Secret(stack, 'Secret');
    topic = new sns.Topic(stack, 'Topic', { masterKey: new kms.Key(stack, 'TopicKey') });
    stateMachine = new sfn.StateMachine(stack, 'Machine', {
      definitionBody: sfn.DefinitionBody.fromChainable(new sfn.Pass(stack, 'Nothing')),
    });

    reader = new ProjectFunction(stack, 'Reader', { entry: fixtureEntry });
    reader.bindLedger(table, 'read');

    writer = new ProjectFunction(stack, 'Writer', {
      entry: fixtureEntry,
      timeout: Duration.seconds(90),
      logRetentionDays: 30,
      environment: { POWERTOOLS_SERVICE_NAME: 'custom-service', EXTRA_SETTING: 'x' },
      bundling: { minify: false, externalModules: ['left-out'] },
    });
    writer.bindLedger(table, 'write');
    writer.bindStateMachine(stateMachine);

    full = new ProjectFunction(stack, 'Full', { entry: fixtureEntry });
    full.bindLedger(table, 'readWrite');
    full.bindSecret(secret);
    full.bindTopic(topic);
    full.bindSecret(secret, 'OTHER_SECRET_ID');

    template = Template.fromStack(stack);
    readerRoleId = logicalIdOf(reader.role!);
    writerRoleId = logicalIdOf(writer.role!);
    fullRoleId = logicalIdOf(full.role!);
  });

  it('pins runtime, architecture, tracing, timeout, memory and source-map env on every function', () => {
    const functions = template.findResources('AWS::Lambda::Function');
    expect(Object.keys(functions)).toHaveLength(3);
    for (const fn of Object.values(functions) as { Properties: Record<string, unknown> }[]) {
      expect(fn.Properties).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        TracingConfig: { Mode: 'Active' },
        MemorySize: 512,
        Environment: { Variables: expect.objectContaining({ NODE_OPTIONS: '--enable-source-maps' }) as unknown },
      });
    }
    template.hasResourceProperties('AWS::Lambda::Function', {
      Timeout: 30,
      LoggingConfig: { LogGroup: { Ref: logicalIdOf(reader.functionLogGroup) } },
    });
  });

  it('merges caller environment over the defaults key by key', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Timeout: 90,
      Environment: {
        Variables: {
          NODE_OPTIONS: '--enable-source-maps',
          POWERTOOLS_SERVICE_NAME: 'custom-service',
          POWERTOOLS_METRICS_NAMESPACE: 'ArizeOffboarding',
          EXTRA_SETTING: 'x',
          LEDGER_TABLE_NAME: { Ref: logicalIdOf(table) },
          STATE_MACHINE_ARN: { Ref: logicalIdOf(stateMachine) },
        },
      },
    });
  });

  it('merges caller bundling options over the pinned ones key by key', () => {
    // NodejsFunction exposes no view of its bundling options; the constructor passes them through mergeBundling,
    // and the real-bundling test below proves the pinned ones reach esbuild.
    const merged = ProjectFunction.mergeBundling({ minify: false, externalModules: ['left-out'] });
    expect(merged).toMatchObject({
      minify: false,
      externalModules: ['left-out'],
      sourceMap: true,
      format: OutputFormat.ESM,
      target: 'node22',
      forceDockerBundling: false,
    });
    expect(merged.banner).toContain('createRequire');
  });

  it('keeps the bundle aliases when a caller adds esbuild arguments of its own', () => {
    const merged = ProjectFunction.mergeBundling({ esbuildArgs: { '--log-limit': '0' } });
    expect(merged.sourcesContent).toBe(false);
    expect(merged.esbuildArgs?.['--log-limit']).toBe('0');
    const aliases = merged.esbuildArgs?.['--alias'];
    expect(Array.isArray(aliases) ? aliases.map((a) => a.split('=')[0]) : aliases).toEqual([
      '@aws-sdk/credential-provider-node',
      'semver',
      '@smithy/core/event-streams',
      ...['http', 'process', 'fs', 'fs/promises'].flatMap((name) => [name, `node:${name}`]),
    ]);
  });

  it('gives each function its own retained log group with the requested retention', () => {
    template.hasResource('AWS::Logs::LogGroup', {
      Properties: { RetentionInDays: 90 },
      DeletionPolicy: 'Retain',
    });
    template.hasResource('AWS::Logs::LogGroup', { Properties: { RetentionInDays: 30 } });
    template.resourceCountIs('AWS::Logs::LogGroup', 3);
    const writerLogs = statementsWithAction(statementsForRole(template, writerRoleId), 'logs:PutLogEvents');
    expect(writerLogs.map((s) => s.Resource)).toEqual([{ 'Fn::GetAtt': [logicalIdOf(writer.functionLogGroup), 'Arn'] }]);
  });

  it('uses no AWS managed policy (which would allow writing to any log group)', () => {
    template.allResourcesProperties('AWS::IAM::Role', { ManagedPolicyArns: Match.absent() });
  });

  it("bindLedger('read') grants GetItem on the table, Query on the table and its two named indexes only", () => {
    const tableArn = { 'Fn::GetAtt': [logicalIdOf(table), 'Arn'] };
    const dynamo = statementsForRole(template, readerRoleId).filter((s) => actionsOf([s]).some((a) => a.startsWith('dynamodb:')));
    expect(dynamo).toEqual([
      { Effect: 'Allow', Action: 'dynamodb:GetItem', Resource: tableArn },
      {
        Effect: 'Allow',
        Action: 'dynamodb:Query',
        Resource: [
          tableArn,
          { 'Fn::Join': ['', [tableArn, '/index/byEmail']] },
          { 'Fn::Join': ['', [tableArn, '/index/byStatus']] },
        ],
      },
    ]);
  });

  it("bindLedger('write') grants Put/Update/BatchWrite on the table only, and bindStateMachine only StartExecution", () => {
    const statements = statementsForRole(template, writerRoleId);
    const dynamo = statements.filter((s) => actionsOf([s]).some((a) => a.startsWith('dynamodb:')));
    expect(dynamo).toEqual([
      {
        Effect: 'Allow',
        Action: ['dynamodb:PutItem', 'dynamodb:BatchWriteItem', 'dynamodb:UpdateItem'],
        Resource: { 'Fn::GetAtt': [logicalIdOf(table), 'Arn'] },
      },
      // A writer seals what it records in the evidence chain (issue 14): reads on the chain's partitions only.
      {
        Effect: 'Allow',
        Action: ['dynamodb:GetItem', 'dynamodb:Query'],
        Resource: { 'Fn::GetAtt': [logicalIdOf(table), 'Arn'] },
        Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['CHAIN#*'] } },
      },
    ]);
    const sfnStatements = statements.filter((s) => actionsOf([s]).some((a) => a.startsWith('states:')));
    expect(actionsOf(sfnStatements)).toEqual(['states:StartExecution']);
    expect(sfnStatements.map((s) => s.Resource)).toEqual([{ Ref: logicalIdOf(stateMachine) }]);
  });

  it("bindLedger('readWrite') grants both sets and still no BatchGet (never called), delete or scan", () => {
    const actions = actionsOf(statementsForRole(template, fullRoleId)).filter((a) => a.startsWith('dynamodb:'));
    expect(actions).toEqual([
      'dynamodb:BatchWriteItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
      'dynamodb:UpdateItem',
    ]);
  });

  it('bindSecret and bindTopic set their env vars and grant read / publish (plus the topic key)', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          ARIZE_API_KEY_SECRET_ID: Match.anyValue(),
          OTHER_SECRET_ID: Match.anyValue(),
          ALERT_TOPIC_ARN: { Ref: logicalIdOf(topic) },
        }),
      },
    });
    const statements = statementsForRole(template, fullRoleId);
    const secretReads = statementsWithAction(statements, 'secretsmanager:GetSecretValue');
    expect(secretReads.map((s) => s.Resource)).toContainEqual({ Ref: logicalIdOf(secret) });
    const publish = statementsWithAction(statements, 'sns:Publish');
    expect(publish.map((s) => s.Resource)).toEqual([{ Ref: logicalIdOf(topic) }]);
    const keyUse = statementsWithAction(statements, 'kms:GenerateDataKey');
    expect(keyUse).toHaveLength(1);
    expect(actionsOf(keyUse)).toEqual(['kms:Decrypt', 'kms:GenerateDataKey']);
    expect(keyUse[0]!.Resource).toEqual({ 'Fn::GetAtt': [logicalIdOf(topic.masterKey!), 'Arn'] });
    expect(actionsOf(statements)).not.toContain('states:StartExecution');
  });
});

describe('ProjectFunction real esbuild bundle', () => {
  let outdir: string;
  let bundleDir: string;

  beforeAll(() => {
    outdir = mkdtempSync(path.join(tmpdir(), 'project-function-bundle-'));
    const app = new App({ outdir });
    const stack = new Stack(app, 'BundleTest');
    new ProjectFunction(stack, 'Echo', { entry: fixtureEntry });
    const assembly = app.synth();
    const assetDirs = readdirSync(assembly.directory).filter((name) => name.startsWith('asset.'));
    expect(assetDirs).toHaveLength(1);
    bundleDir = path.join(assembly.directory, assetDirs[0]!);
  }, 120_000);

  afterAll(() => {
    rmSync(outdir, { recursive: true, force: true });
  });

  it('emits minified ESM with a source map and the createRequire banner', () => {
    const code = readFileSync(path.join(bundleDir, 'index.mjs'), 'utf8');
    expect(code.startsWith("import { createRequire as __projectCreateRequire } from 'node:module';")).toBe(true);
    expect(existsSync(path.join(bundleDir, 'index.mjs.map'))).toBe(true);
    expect(code).toContain('sourceMappingURL=index.mjs.map');
    expect(code).not.toContain('platformName()\n');
  });

  it('runs: the bundled handler works, including a CommonJS dependency calling require()', async () => {
    const bundle = (await import(pathToFileURL(path.join(bundleDir, 'index.mjs')).href)) as {
      handler: (event: unknown) => Promise<{ echoed: unknown; platform: string }>;
    };
    await expect(bundle.handler({ hello: 'world' })).resolves.toEqual({
      echoed: { hello: 'world' },
      platform: process.platform,
    });
  });
});
