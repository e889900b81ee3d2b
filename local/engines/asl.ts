/**
 * Gets the state machine's ASL out of the CDK stack in-process, so the local engine runs the very
 * definition that deploys. CloudFormation tokens (Lambda ARNs, partitions, topic ARNs) are replaced by
 * stable placeholders that name the resource's logical id, which is how Task states are matched to
 * local handlers.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, type Stack } from 'aws-cdk-lib';

export const PLACEHOLDER_REGION = 'local';
export const PLACEHOLDER_ACCOUNT = '000000000000';
const PLACEHOLDER_PARTITION = 'aws';

export type AslDefinition = Record<string, unknown>;

export interface SynthesizedDefinition {
  /** Plain ASL JSON, ready for `LocalStepFunctions`. */
  definition: AslDefinition;
  /** Task states that invoke a Lambda function → that function's logical id in the template. */
  taskStates: Record<string, string>;
  /** Task states calling another service integration (e.g. `arn:aws:states:::sns:publish`) → their Resource. */
  serviceTaskStates: Record<string, string>;
  stateMachineLogicalId: string;
}

export interface DefinitionOptions {
  /** Needed only when the template holds more than one state machine. */
  stateMachineLogicalId?: string;
}

export interface SynthesizeOptions extends DefinitionOptions {
  /** Extra CDK context (e.g. the values `cdk.json` would supply). */
  context?: Record<string, unknown>;
}

interface TemplateResource {
  Type?: string;
  Properties?: Record<string, unknown>;
}

export interface CloudFormationTemplate {
  Resources?: Record<string, TemplateResource>;
}

export function placeholderLambdaArn(logicalId: string): string {
  return `arn:${PLACEHOLDER_PARTITION}:lambda:${PLACEHOLDER_REGION}:${PLACEHOLDER_ACCOUNT}:function:${logicalId}`;
}

const PSEUDO_PARAMETERS: Record<string, string> = {
  'AWS::Partition': PLACEHOLDER_PARTITION,
  'AWS::Region': PLACEHOLDER_REGION,
  'AWS::AccountId': PLACEHOLDER_ACCOUNT,
  'AWS::URLSuffix': 'amazonaws.com',
  'AWS::StackName': 'local',
  'AWS::NoValue': '',
};

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function placeholderArn(type: string | undefined, logicalId: string): string {
  const prefix = `arn:${PLACEHOLDER_PARTITION}`;
  const regional = `${PLACEHOLDER_REGION}:${PLACEHOLDER_ACCOUNT}`;
  switch (type) {
    case 'AWS::Lambda::Function':
      return placeholderLambdaArn(logicalId);
    case 'AWS::DynamoDB::Table':
      return `${prefix}:dynamodb:${regional}:table/${logicalId}`;
    case 'AWS::SNS::Topic':
      return `${prefix}:sns:${regional}:${logicalId}`;
    case 'AWS::SQS::Queue':
      return `${prefix}:sqs:${regional}:${logicalId}`;
    case 'AWS::SecretsManager::Secret':
      return `${prefix}:secretsmanager:${regional}:secret:${logicalId}`;
    case 'AWS::StepFunctions::StateMachine':
      return `${prefix}:states:${regional}:stateMachine:${logicalId}`;
    default: {
      const service = (type ?? 'AWS::Unknown::').split('::')[1]?.toLowerCase() ?? 'unknown';
      return `${prefix}:${service}:${regional}:${logicalId}`;
    }
  }
}

/** What `Ref` returns for the resource types a state machine definition plausibly references. */
function placeholderRef(type: string | undefined, logicalId: string): string {
  switch (type) {
    case 'AWS::SNS::Topic':
    case 'AWS::SecretsManager::Secret':
    case 'AWS::StepFunctions::StateMachine':
      return placeholderArn(type, logicalId);
    case 'AWS::SQS::Queue':
      return `https://sqs.${PLACEHOLDER_REGION}.amazonaws.com/${PLACEHOLDER_ACCOUNT}/${logicalId}`;
    default:
      return logicalId;
  }
}

function placeholderAttribute(type: string | undefined, logicalId: string, attribute: string): string {
  if (attribute === 'Arn' || attribute === 'TopicArn') return placeholderArn(type, logicalId);
  if (attribute === 'QueueUrl') return placeholderRef('AWS::SQS::Queue', logicalId);
  if (attribute === 'QueueName' || attribute === 'TopicName' || attribute === 'Name') return logicalId;
  return `${logicalId}.${attribute}`;
}

class TokenResolver {
  constructor(private readonly resources: Record<string, TemplateResource>) {}

  private ref(name: string): string {
    const pseudo = PSEUDO_PARAMETERS[name];
    if (pseudo !== undefined) return pseudo;
    const resource = this.resources[name];
    if (resource === undefined) throw new Error(`asl: Ref to ${name}, which is neither a pseudo parameter nor a resource in the template`);
    return placeholderRef(resource.Type, name);
  }

  private getAtt(logicalId: string, attribute: string): string {
    const resource = this.resources[logicalId];
    if (resource === undefined) throw new Error(`asl: Fn::GetAtt on ${logicalId}, which is not a resource in the template`);
    return placeholderAttribute(resource.Type, logicalId, attribute);
  }

  resolve(value: unknown): string {
    if (typeof value === 'string') return value;
    if (!isRecord(value)) throw new Error(`asl: cannot resolve ${JSON.stringify(value)} to a string`);
    const [intrinsic, ...extra] = Object.keys(value);
    if (intrinsic === undefined || extra.length > 0) throw new Error(`asl: expected one intrinsic function, got ${JSON.stringify(value)}`);
    const argument = value[intrinsic];
    switch (intrinsic) {
      case 'Ref':
        return this.ref(String(argument));
      case 'Fn::GetAtt': {
        const [logicalId, attribute] = Array.isArray(argument) ? (argument as unknown[]) : String(argument).split('.');
        return this.getAtt(String(logicalId), String(attribute));
      }
      case 'Fn::Join': {
        const [separator, parts] = argument as [string, unknown[]];
        return parts.map((part) => this.resolve(part)).join(separator);
      }
      case 'Fn::Sub': {
        const [template, variables] = Array.isArray(argument) ? (argument as [string, Record<string, unknown>?]) : [String(argument), undefined];
        return template.replace(/\$\{([^}!]+)\}/g, (_match, name: string) => {
          if (variables?.[name] !== undefined) return this.resolve(variables[name]);
          const [logicalId, attribute] = name.split('.');
          return attribute === undefined ? this.ref(name) : this.getAtt(String(logicalId), attribute);
        });
      }
      default:
        throw new Error(`asl: unsupported intrinsic ${intrinsic} in the state machine definition`);
    }
  }
}

function logicalIdFromLambdaArn(arn: string): string | undefined {
  const match = /:function:([^:]+)/.exec(arn);
  return match?.[1];
}

function classifyTasks(states: Record<string, unknown>, result: Pick<SynthesizedDefinition, 'taskStates' | 'serviceTaskStates'>): void {
  for (const [name, state] of Object.entries(states)) {
    if (!isRecord(state)) continue;
    if (state.Type === 'Task') {
      const resource = String(state.Resource);
      const parameters = isRecord(state.Parameters) ? state.Parameters : {};
      const functionArn = /:states:::lambda:invoke$/.test(resource)
        ? typeof parameters.FunctionName === 'string'
          ? parameters.FunctionName
          : undefined
        : /:lambda:[^:]*:[^:]*:function:/.test(resource)
          ? resource
          : undefined;
      const logicalId = functionArn === undefined ? undefined : logicalIdFromLambdaArn(functionArn);
      if (logicalId !== undefined) result.taskStates[name] = logicalId;
      else result.serviceTaskStates[name] = resource;
    }
    const nested: unknown[] = [];
    if (state.Type === 'Map') nested.push(state.ItemProcessor ?? state.Iterator);
    if (state.Type === 'Parallel' && Array.isArray(state.Branches)) nested.push(...(state.Branches as unknown[]));
    for (const machine of nested) {
      if (isRecord(machine) && isRecord(machine.States)) classifyTasks(machine.States, result);
    }
  }
}

/** Extracts and resolves the definition from an already synthesised CloudFormation template. */
export function definitionFromTemplate(template: CloudFormationTemplate, options: DefinitionOptions = {}): SynthesizedDefinition {
  const resources = template.Resources ?? {};
  const machines = Object.entries(resources).filter(([, resource]) => resource.Type === 'AWS::StepFunctions::StateMachine');
  const chosen =
    options.stateMachineLogicalId !== undefined
      ? machines.find(([logicalId]) => logicalId === options.stateMachineLogicalId)
      : machines.length === 1
        ? machines[0]
        : undefined;
  if (chosen === undefined) {
    const found = machines.map(([logicalId]) => logicalId).join(', ') || 'none';
    throw new Error(
      options.stateMachineLogicalId !== undefined
        ? `asl: no state machine ${options.stateMachineLogicalId} in the template (found: ${found})`
        : `asl: expected exactly one AWS::StepFunctions::StateMachine, found: ${found}; pass stateMachineLogicalId`,
    );
  }
  const [stateMachineLogicalId, resource] = chosen;
  const properties = resource.Properties ?? {};
  if (properties.Definition !== undefined || properties.DefinitionS3Location !== undefined) {
    throw new Error(`asl: ${stateMachineLogicalId} uses Definition/DefinitionS3Location; only DefinitionString is supported`);
  }
  const resolver = new TokenResolver(resources);
  let text = resolver.resolve(properties.DefinitionString);
  const substitutions = isRecord(properties.DefinitionSubstitutions) ? properties.DefinitionSubstitutions : {};
  for (const [key, value] of Object.entries(substitutions)) {
    text = text.split('${' + key + '}').join(resolver.resolve(value));
  }
  let definition: unknown;
  try {
    definition = JSON.parse(text);
  } catch (error) {
    throw new Error(`asl: the resolved DefinitionString of ${stateMachineLogicalId} is not JSON: ${String(error)}`);
  }
  if (!isRecord(definition) || !isRecord(definition.States)) throw new Error(`asl: ${stateMachineLogicalId} has no States`);
  const result: SynthesizedDefinition = { definition, taskStates: {}, serviceTaskStates: {}, stateMachineLogicalId };
  classifyTasks(definition.States, result);
  return result;
}

/**
 * Builds the stack in a fresh App with asset bundling disabled (no esbuild, no Docker), synthesises it and
 * returns the resolved definition. `build` must create the stack in the App it is given.
 */
export function synthesizeDefinition(build: (app: App) => Stack, options: SynthesizeOptions = {}): SynthesizedDefinition {
  // An own temporary outdir: never the project's cdk.out, even when CDK_OUTDIR is set by the CLI.
  const outdir = mkdtempSync(join(tmpdir(), 'asl-synth-'));
  try {
    const app = new App({ outdir, context: { ...options.context, 'aws:cdk:bundling-stacks': [] } });
    const stack = build(app);
    const template = app.synth().getStackArtifact(stack.artifactId).template as CloudFormationTemplate;
    return definitionFromTemplate(template, options);
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}
