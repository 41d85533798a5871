import { getDenialReasons, runSimulation, type RunSimulationResults } from '@cloud-copilot/iam-simulate';
import { ENVIRONMENT, arnOf, idsOf, type Resolver, type Template } from './cloud-assembly';
import type { Deployment } from './deployment';
import type { RecordedCall } from './stand-ins';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** What IAM authorises for one call: an action on a resource. A call may need several (a transaction, a batch over tables). */
export interface IamRequest {
  readonly action: string;
  readonly resource: string;
}

const asArray = <T>(value: T | T[] | undefined): T[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);

/** A transaction's items are each authorised as the single-item action they perform. */
const TRANSACT_ITEM_ACTIONS: Record<string, string> = {
  Put: 'dynamodb:PutItem',
  Update: 'dynamodb:UpdateItem',
  Delete: 'dynamodb:DeleteItem',
  ConditionCheck: 'dynamodb:ConditionCheckItem',
  Get: 'dynamodb:GetItem',
};

/**
 * The IAM requests a recorded call is authorised as. `tableArn` maps a
 * table name as the function used it to its ARN.
 */
export function iamRequestsOf(call: RecordedCall, tableArn: (tableName: string) => string): IamRequest[] {
  const input = call.input as Json;
  switch (call.service) {
    case 'dynamodb': {
      if (call.operation === 'TransactWriteItems' || call.operation === 'TransactGetItems') {
        return asArray<Json>(input.TransactItems).map((item) => {
          const [kind, spec] = Object.entries(item)[0] as [string, Json];
          const action = TRANSACT_ITEM_ACTIONS[kind];
          if (action === undefined) throw new Error(`${call.operation}: an item of kind ${kind}`);
          return { action, resource: tableArn(String(spec.TableName)) };
        });
      }
      if (call.operation === 'BatchGetItem' || call.operation === 'BatchWriteItem') {
        return Object.keys(input.RequestItems ?? {}).map((table) => ({ action: `dynamodb:${call.operation}`, resource: tableArn(table) }));
      }
      // A Query or Scan of an index is authorised on the index's ARN, not the table's.
      const index = (call.operation === 'Query' || call.operation === 'Scan') && input.IndexName !== undefined ? `/index/${String(input.IndexName)}` : '';
      return [{ action: `dynamodb:${call.operation}`, resource: `${tableArn(String(input.TableName))}${index}` }];
    }
    case 'sns':
      // A Publish to a phone number has no resource ARN: IAM evaluates it against "*".
      return [{ action: `sns:${call.operation}`, resource: String(input.TopicArn ?? input.TargetArn ?? '*') }];
    case 'secretsmanager':
      return [{ action: `secretsmanager:${call.operation}`, resource: String(input.SecretId) }];
    default:
      throw new Error(`no IAM mapping for ${call.service}:${call.operation}`);
  }
}

export interface IdentityPolicy {
  readonly name: string;
  readonly policy: { Version: string; Statement: Json[] };
}

/**
 * The identity policies of a function's execution role, from the template,
 * resolved to concrete ARNs: AWS::IAM::Policy and AWS::IAM::ManagedPolicy
 * resources attached to the role, and the role's own inline policies.
 */
export function identityPoliciesOf(template: Template, resolver: Resolver, functionId: string): { roleArn: string; policies: IdentityPolicy[] } {
  const roleId = (template.Resources[functionId]?.Properties?.Role as Json | undefined)?.['Fn::GetAtt']?.[0] as string | undefined;
  const role = roleId === undefined ? undefined : template.Resources[roleId];
  if (roleId === undefined || role?.Type !== 'AWS::IAM::Role') throw new Error(`${functionId}: its Role is no AWS::IAM::Role of the template`);
  const attached = (id: string) => asArray<Json>(template.Resources[id]!.Properties?.Roles).some((ref) => ref.Ref === roleId);
  const managedArns = asArray<unknown>(role.Properties?.ManagedPolicyArns);
  const inTemplateManaged = managedArns.map((arn) => (arn as Json)?.Ref as string | undefined);
  if (inTemplateManaged.some((id) => id === undefined || template.Resources[id]?.Type !== 'AWS::IAM::ManagedPolicy')) {
    throw new Error(`${roleId}: managed policies from outside the template (${JSON.stringify(managedArns)}) cannot be simulated`);
  }
  const documents: Array<[string, unknown]> = [
    ...idsOf(template, 'AWS::IAM::Policy').filter(attached).map((id): [string, unknown] => [id, template.Resources[id]!.Properties!.PolicyDocument]),
    ...idsOf(template, 'AWS::IAM::ManagedPolicy')
      .filter((id) => attached(id) || inTemplateManaged.includes(id))
      .map((id): [string, unknown] => [id, template.Resources[id]!.Properties!.PolicyDocument]),
    ...asArray<Json>(role.Properties?.Policies).map((inline): [string, unknown] => [`${roleId}/${inline.PolicyName}`, inline.PolicyDocument]),
  ];
  return {
    roleArn: arnOf('AWS::IAM::Role', roleId)!,
    policies: documents.map(([name, document]) => ({ name, policy: resolver.resolve(document, name) as IdentityPolicy['policy'] })),
  };
}

/** Every action an Allow statement of these policies grants. */
export const grantedActions = (policies: readonly IdentityPolicy[]): string[] => [
  ...new Set(policies.flatMap(({ policy }) => policy.Statement.filter((statement) => statement.Effect === 'Allow').flatMap((statement) => asArray<string>(statement.Action)))),
];

/** The simulator's verdict on one request, and why, for a failure message. */
export interface Verdict {
  readonly allowed: boolean;
  readonly explanation: string;
}

export async function simulate(roleArn: string, policies: readonly IdentityPolicy[], request: IamRequest): Promise<Verdict> {
  const results = await runSimulation(
    {
      request: { principal: roleArn, action: request.action, resource: { resource: request.resource, accountId: ENVIRONMENT.account }, contextVariables: {} },
      identityPolicies: policies.map(({ name, policy }) => ({ name, policy })),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
    },
    {},
  );
  return { allowed: results.resultType !== 'error' && results.overallResult === 'Allowed', explanation: explain(results) };
}

function explain(results: RunSimulationResults): string {
  if (results.resultType === 'error') return `simulation error: ${JSON.stringify(results.errors)}`;
  const analyses = results.resultType === 'single' ? [results.result.analysis] : results.results.map((result) => result.analysis);
  return [
    results.overallResult,
    ...analyses.flatMap((analysis) => [
      `denials: ${JSON.stringify(getDenialReasons(analysis))}`,
      ...[...(analysis.identityAnalysis?.allowStatements ?? []), ...(analysis.identityAnalysis?.denyStatements ?? []), ...(analysis.identityAnalysis?.unmatchedStatements ?? [])].map(
        ({ policyId, statement, actionMatch, resourceMatch }) => {
          const { Effect, Action, Resource } = statement.toJSON() as Json;
          return `  ${policyId}: ${Effect} ${JSON.stringify(Action)} on ${JSON.stringify(Resource)} -> action ${actionMatch ? 'matches' : 'no'}, resource ${resourceMatch ? 'matches' : 'no'}`;
        },
      ),
    ]),
  ].join('\n');
}

/** The IAM requests of every call `functionId` made, each with the call it belongs to. */
export const requestsBy = (deployment: Deployment, functionId: string): Array<IamRequest & { call: string }> =>
  deployment.standIns.calls
    .filter((recorded) => recorded.functionId === functionId)
    .flatMap((recorded) => iamRequestsOf(recorded, deployment.tableArn).map((request) => ({ ...request, call: `${recorded.service}:${recorded.operation}` })));

/** Every distinct request a function made that its role's policies do not allow, with the simulator's reasons. */
export async function deniedRequests(deployment: Deployment): Promise<string[]> {
  const denied: string[] = [];
  for (const functionId of deployment.functions.keys()) {
    const { roleArn, policies } = identityPoliciesOf(deployment.template, deployment.resolver, functionId);
    const requests = requestsBy(deployment, functionId);
    if (requests.length === 0) denied.push(`${functionId}: made no AWS call at all, so nothing of its role was checked`);
    const unique = new Map(requests.map((request) => [`${request.action} ${request.resource}`, request]));
    for (const request of unique.values()) {
      const verdict = await simulate(roleArn, policies, request);
      if (!verdict.allowed) denied.push(`${functionId}: ${request.action} on ${request.resource} (in ${request.call})\n${verdict.explanation}`);
    }
  }
  return denied;
}

/**
 * Granted actions no call used, keyed `<function> <action>`: `unexplained`
 * have no reason in `reasons` (keyed the same, `*` for every function),
 * `stale` are reasons for a grant that was used, or is gone.
 */
export function unusedGrants(deployment: Deployment, reasons: Readonly<Record<string, string>>): { unexplained: string[]; stale: string[] } {
  const unexplained: string[] = [];
  const stale = new Set(Object.keys(reasons));
  for (const [functionId, fn] of deployment.functions) {
    const { policies } = identityPoliciesOf(deployment.template, deployment.resolver, functionId);
    const used = new Set(requestsBy(deployment, functionId).map((request) => request.action));
    for (const action of grantedActions(policies)) {
      if (used.has(action)) continue;
      const reason = [`${fn.name} ${action}`, `* ${action}`].find((key) => key in reasons);
      if (reason === undefined) unexplained.push(`${fn.name} ${action}`);
      else stale.delete(reason);
    }
  }
  return { unexplained, stale: [...stale] };
}
