/**
 * Every AWS call the deployed stack makes, evaluated against the policies in the template by a real IAM policy
 * evaluator (@cloud-copilot/iam-simulate): identity policies of the caller's role, and the resource policy of the
 * target (topic policy, key policy, queue policy, Lambda permissions).
 */
import { runSimulation, type Simulation } from '@cloud-copilot/iam-simulate';
import { ACCOUNT, PARTITION, REGION, str, type Json, type Resolver } from './template.js';

export interface PolicyDocument {
  Version: string;
  Statement: Record<string, Json>[];
}

export interface AwsCall {
  /** Role logical id, or a service principal such as `cloudwatch.amazonaws.com`. */
  caller: string;
  action: string;
  resource: string;
  /** Extra context keys (aws:SourceArn, …). */
  context?: Record<string, string>;
}

export interface CallDecision extends AwsCall {
  allowed: boolean;
  result: string;
}

const SERVICE_PRINCIPAL = /\.amazonaws\.com$/;

/** Identity policies attached to a role in the template (AWS::IAM::Policy and the role's inline Policies). */
export function rolePolicies(resolver: Resolver, roleId: string): { name: string; policy: PolicyDocument }[] {
  const policies: { name: string; policy: PolicyDocument }[] = [];
  for (const [id, resource] of Object.entries(resolver.template.Resources)) {
    if (resource.Type === 'AWS::IAM::Policy') {
      const roles = (resource.Properties?.Roles ?? []) as { Ref?: string }[];
      if (roles.some((role) => role.Ref === roleId)) {
        policies.push({ name: id, policy: resolver.resolve(resource.Properties?.PolicyDocument) as unknown as PolicyDocument });
      }
    }
  }
  const inline = (resolver.resource(roleId).Properties?.Policies ?? []) as { PolicyName: string; PolicyDocument: Json }[];
  for (const { PolicyName, PolicyDocument } of inline) {
    policies.push({ name: PolicyName, policy: resolver.resolve(PolicyDocument) as unknown as PolicyDocument });
  }
  return policies;
}

/** The resource policy governing `resource` (ARN), if the template defines one. */
export function resourcePolicyFor(resolver: Resolver, resource: string): PolicyDocument | undefined {
  const statements: Record<string, Json>[] = [];
  for (const [, r] of Object.entries(resolver.template.Resources)) {
    const props = r.Properties ?? {};
    if (r.Type === 'AWS::SNS::TopicPolicy' && (resolver.resolve(props.Topics) as string[]).includes(resource)) {
      statements.push(...(resolver.resolve(props.PolicyDocument) as unknown as PolicyDocument).Statement);
    }
    if (r.Type === 'AWS::SQS::QueuePolicy') {
      const arns = (props.Queues as Json[]).map((queue) => {
        const id = (queue as { Ref: string }).Ref;
        return resolver.getAtt(id, 'Arn');
      });
      if (arns.includes(resource)) statements.push(...(resolver.resolve(props.PolicyDocument) as unknown as PolicyDocument).Statement);
    }
    if (r.Type === 'AWS::Lambda::Permission' && resolver.resolve(props.FunctionName) === resource) {
      const statement: Record<string, Json> = {
        Effect: 'Allow',
        Principal: { Service: str(props.Principal) },
        Action: str(props.Action),
        Resource: resource,
      };
      if (props.SourceArn !== undefined) statement.Condition = { ArnLike: { 'aws:SourceArn': resolver.resolve(props.SourceArn) } };
      statements.push(statement);
    }
  }
  for (const [id, r] of Object.entries(resolver.template.Resources)) {
    if (r.Type === 'AWS::KMS::Key' && resolver.getAtt(id, 'Arn') === resource) {
      statements.push(...(resolver.resolve(r.Properties?.KeyPolicy) as unknown as PolicyDocument).Statement);
    }
  }
  return statements.length > 0 ? { Version: '2012-10-17', Statement: statements } : undefined;
}

export function roleArn(roleId: string): string {
  return `arn:${PARTITION}:iam::${ACCOUNT}:role/${roleId}`;
}

export class IamChecker {
  private readonly cache = new Map<string, Promise<CallDecision>>();
  readonly decisions: CallDecision[] = [];

  /**
   * @param identityPolicies overrides the template's policies for a role (focused tests: a policy without a grant).
   */
  constructor(
    private readonly resolver: Resolver,
    private readonly identityPolicies: (roleId: string) => { name: string; policy: PolicyDocument }[] = (roleId) => rolePolicies(resolver, roleId),
  ) {}

  async check(call: AwsCall): Promise<CallDecision> {
    const key = JSON.stringify([call.caller, call.action, call.resource, call.context ?? {}]);
    let decision = this.cache.get(key);
    if (!decision) {
      decision = this.evaluate(call);
      this.cache.set(key, decision);
    }
    const result = await decision;
    this.decisions.push(result);
    return result;
  }

  denied(): CallDecision[] {
    return this.decisions.filter((d) => !d.allowed);
  }

  private async evaluate(call: AwsCall): Promise<CallDecision> {
    const service = SERVICE_PRINCIPAL.test(call.caller);
    const resourcePolicy = resourcePolicyFor(this.resolver, call.resource);
    const simulation: Simulation = {
      identityPolicies: service ? [] : this.identityPolicies(call.caller),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      ...(resourcePolicy ? { resourcePolicy } : {}),
      request: {
        action: call.action,
        principal: service ? call.caller : roleArn(call.caller),
        resource: { accountId: resourceAccount(call.resource), resource: call.resource },
        // Every call of the SDK and of the services goes over TLS.
        contextVariables: { 'aws:SecureTransport': 'true', 'aws:SourceAccount': ACCOUNT, ...(call.context ?? {}) },
      },
    };
    const outcome = await runSimulation(simulation, {});
    const result = outcome.resultType === 'error' ? `error: ${JSON.stringify(outcome.errors)}` : String(outcome.overallResult);
    return { ...call, allowed: result === 'Allowed', result };
  }
}

function resourceAccount(arn: string): string {
  const account = arn.split(':')[4];
  return account !== undefined && account !== '' ? account : ACCOUNT;
}

export const LOCAL_REGION = REGION;
