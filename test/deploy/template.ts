/**
 * The synthesised app as `cdk deploy` ships it: the template and the asset directories in cdk.out, with
 * CloudFormation's intrinsics resolved to fake but consistent local names and ARNs (one account, one region).
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

export const REPO_ROOT = path.resolve(import.meta.dirname, '..', '..');
export const CDK_OUT = path.join(REPO_ROOT, 'cdk.out');
export const STACK_NAME = 'ArizeOffboarding';
export const ACCOUNT = '000000000000';
export const REGION = 'us-east-1';
export const PARTITION = 'aws';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export interface Resource {
  Type: string;
  Properties?: Record<string, Json>;
  Metadata?: Record<string, Json>;
}
export interface Template {
  Resources: Record<string, Resource>;
}

export function loadTemplate(): Template {
  const file = path.join(CDK_OUT, `${STACK_NAME}.template.json`);
  if (!existsSync(file)) throw new Error(`${file} is missing: run \`npx cdk synth\` first (npm run test:deploy does)`);
  return JSON.parse(readFileSync(file, 'utf8')) as Template;
}

/** Names given to the resources whose Ref/attributes point at a local engine (the queue URL's host, …). */
export interface LocalNames {
  /** `http://127.0.0.1:<port>`, the SQS endpoint the queue URLs are built on. */
  sqsEndpoint?: string;
}

function isObject(value: unknown): value is Record<string, Json> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export class Resolver {
  constructor(
    readonly template: Template,
    readonly names: LocalNames = {},
  ) {}

  resource(id: string): Resource {
    const resource = this.template.Resources[id];
    if (!resource) throw new Error(`no resource ${id} in the template`);
    return resource;
  }

  /** A secret's name as created (the literal SecretName, else the logical id). */
  secretName(id: string): string {
    const name = this.resource(id).Properties?.Name;
    return typeof name === 'string' ? name : id;
  }

  ref(id: string): string {
    switch (id) {
      case 'AWS::Partition':
        return PARTITION;
      case 'AWS::Region':
        return REGION;
      case 'AWS::AccountId':
        return ACCOUNT;
      case 'AWS::URLSuffix':
        return 'amazonaws.com';
      case 'AWS::StackName':
        return STACK_NAME;
    }
    const { Type } = this.resource(id);
    switch (Type) {
      case 'AWS::SQS::Queue':
        return `${this.names.sqsEndpoint ?? 'http://sqs.local'}/${ACCOUNT}/${id}`;
      case 'AWS::SecretsManager::Secret':
        // Secrets Manager appends six random characters to a secret's name in its ARN.
        return `arn:${PARTITION}:secretsmanager:${REGION}:${ACCOUNT}:secret:${this.secretName(id)}-AbCdEf`;
      case 'AWS::SNS::Topic':
        return `arn:${PARTITION}:sns:${REGION}:${ACCOUNT}:${id}`;
      case 'AWS::StepFunctions::StateMachine':
        return `arn:${PARTITION}:states:${REGION}:${ACCOUNT}:stateMachine:${id}`;
      case 'AWS::KMS::Key':
        return `key-${id}`;
      case 'AWS::S3::Bucket':
        return id.toLowerCase();
      default:
        return id;
    }
  }

  getAtt(id: string, attribute: string): string {
    const { Type } = this.resource(id);
    if (attribute === 'Arn') {
      switch (Type) {
        case 'AWS::DynamoDB::Table':
          return `arn:${PARTITION}:dynamodb:${REGION}:${ACCOUNT}:table/${id}`;
        case 'AWS::SQS::Queue':
          return `arn:${PARTITION}:sqs:${REGION}:${ACCOUNT}:${id}`;
        case 'AWS::Lambda::Function':
          return `arn:${PARTITION}:lambda:${REGION}:${ACCOUNT}:function:${id}`;
        case 'AWS::IAM::Role':
          return `arn:${PARTITION}:iam::${ACCOUNT}:role/${id}`;
        case 'AWS::KMS::Key':
          return `arn:${PARTITION}:kms:${REGION}:${ACCOUNT}:key/${this.ref(id)}`;
        case 'AWS::S3::Bucket':
          return `arn:${PARTITION}:s3:::${this.ref(id)}`;
        case 'AWS::Logs::LogGroup':
          return `arn:${PARTITION}:logs:${REGION}:${ACCOUNT}:log-group:${id}:*`;
        case 'AWS::SNS::Topic':
        case 'AWS::SecretsManager::Secret':
        case 'AWS::StepFunctions::StateMachine':
          return this.ref(id);
      }
    }
    if (attribute === 'QueueName' || attribute === 'Name' || attribute === 'TopicName') return id;
    if (attribute === 'QueueUrl') return this.ref(id);
    if (attribute === 'ApiEndpoint') return `https://${id}.execute-api.${REGION}.amazonaws.com`;
    throw new Error(`cannot resolve Fn::GetAtt ${id}.${attribute} (${Type})`);
  }

  resolve(value: Json | undefined): Json {
    if (value === undefined) return null;
    if (Array.isArray(value)) return value.map((item) => this.resolve(item));
    if (!isObject(value)) return value;
    const keys = Object.keys(value);
    if (keys.length === 1) {
      const [key] = keys as [string];
      const arg = value[key] as Json;
      if (key === 'Ref') return this.ref(arg as string);
      if (key === 'Fn::GetAtt') {
        const [id, attribute] = (Array.isArray(arg) ? arg : str(arg).split('.')) as [string, string];
        return this.getAtt(id, attribute);
      }
      if (key === 'Fn::Join') {
        const [separator, parts] = arg as [string, Json[]];
        return (this.resolve(parts) as Json[]).map(String).join(separator);
      }
      if (key === 'Fn::Select') {
        const [index, list] = arg as [number, Json];
        return (this.resolve(list) as Json[])[Number(index)] ?? null;
      }
      if (key === 'Fn::Split') {
        const [separator, source] = arg as [string, Json];
        return str(this.resolve(source)).split(separator);
      }
    }
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.resolve(v)]));
  }

  resolveString(value: Json | undefined): string {
    const resolved = this.resolve(value);
    if (typeof resolved !== 'string') throw new Error(`expected a string, got ${JSON.stringify(resolved)}`);
    return resolved;
  }
}

export interface FunctionInfo {
  logicalId: string;
  /** e.g. `index.handler` */
  handler: string;
  assetDir: string;
  roleId: string;
  /** Environment as in the template, intrinsics resolved. */
  environment: Record<string, string>;
  timeoutSeconds: number;
}

export function functionsOf(resolver: Resolver): FunctionInfo[] {
  return Object.entries(resolver.template.Resources)
    .filter(([, resource]) => resource.Type === 'AWS::Lambda::Function')
    .map(([logicalId, resource]) => {
      const props = resource.Properties ?? {};
      const asset = resource.Metadata?.['aws:asset:path'];
      if (typeof asset !== 'string') throw new Error(`${logicalId} has no aws:asset:path metadata`);
      const role = props.Role as { 'Fn::GetAtt': [string, string] };
      const variables = ((props.Environment as { Variables?: Record<string, Json> } | undefined)?.Variables ?? {});
      return {
        logicalId,
        handler: str(props.Handler),
        assetDir: path.join(CDK_OUT, asset),
        roleId: role['Fn::GetAtt'][0],
        environment: Object.fromEntries(Object.entries(variables).map(([k, v]) => [k, resolver.resolveString(v)])),
        timeoutSeconds: Number(props.Timeout ?? 3),
      };
    });
}

/** Logical ids of the resources of a type whose logical id starts with `prefix` (construct path order). */
export function resourceIds(template: Template, type: string, prefix = ''): string[] {
  return Object.entries(template.Resources)
    .filter(([id, resource]) => resource.Type === type && id.startsWith(prefix))
    .map(([id]) => id);
}

export function onlyResourceId(template: Template, type: string, prefix = ''): string {
  const ids = resourceIds(template, type, prefix);
  if (ids.length !== 1) throw new Error(`expected one ${type} ${prefix}*, found ${ids.length}`);
  return ids[0]!;
}

/** The state machine's ASL with every token resolved (function ARNs, topic ARN). */
export function stateMachineDefinition(resolver: Resolver): { id: string; roleId: string; definition: Record<string, Json> } {
  const id = onlyResourceId(resolver.template, 'AWS::StepFunctions::StateMachine');
  const props = resolver.resource(id).Properties ?? {};
  const definition = JSON.parse(resolver.resolveString(props.DefinitionString)) as Record<string, Json>;
  const roleId = (props.RoleArn as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
  return { id, roleId, definition };
}

/** A scalar of a JSON document as text (objects as JSON): what String() would be for the scalars we expect. */
export function str(value: Json | undefined): string {
  if (value === undefined || value === null) return '';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}
