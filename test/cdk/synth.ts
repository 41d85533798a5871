import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { addPhoneLinkStacks, type PhoneLinkStack } from '../../lib/phone-link-stack';
import { readStageConfig } from '../../lib/stage-config';

/** The context docs/DEPLOY.md asks of a prod deployment. */
export const PROD_CONTEXT = {
  stage: 'prod',
  jwksUrl: 'https://login.example.com/.well-known/jwks.json',
  jwtIssuer: 'https://login.example.com',
  userDomains: 'C.DM.5903.1,C.DM.5903.2',
} as const;

export const EXISTING_SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:phone-link/domains-AbC123';
export const EXISTING_TOPIC_ARN = 'arn:aws:sns:eu-west-1:123456789012:oncall';
export const CERTIFICATE_ARN = 'arn:aws:acm:eu-west-1:123456789012:certificate/0b5e4c1a-1111-2222-3333-444455556666';

/** Prod with every optional feature on: what the security checks must hold for too. */
export const FULL_CONTEXT = {
  ...PROD_CONTEXT,
  userDomainSecretsArn: EXISTING_SECRET_ARN,
  smsSenderId: 'PhoneLink',
  smsAllowedCountries: 'cn, HK',
  alarmEmail: 'oncall@example.com',
  alarmTopicArn: EXISTING_TOPIC_ARN,
  tracing: 'true',
  corsAllowedOrigins: 'https://app.example.com,https://admin.example.com',
  domainName: 'api.example.com',
  certificateArn: CERTIFICATE_ARN,
} as const;

/**
 * Synthesises the stack the way bin/app.ts does, from context, but with
 * bundling skipped (`aws:cdk:bundling-stacks: []`): no esbuild, fast tests.
 */
export function synthesize(context: Record<string, unknown> = {}): { app: App; stack: PhoneLinkStack; template: Template; stacks: PhoneLinkStack[] } {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [], ...context } });
  const stacks = addPhoneLinkStacks(app, readStageConfig(app.node));
  const [stack] = stacks as [PhoneLinkStack, ...PhoneLinkStack[]];
  return { app, stack, template: Template.fromStack(stack), stacks };
}

/** Prod over two regions and a witness, all of the EU region set. */
export const MULTI_REGION_CONTEXT = { ...PROD_CONTEXT, regions: 'eu-west-1,eu-west-2', witnessRegion: 'eu-central-1' } as const;

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface Statement {
  readonly Effect: 'Allow' | 'Deny';
  readonly Action: string[];
  readonly Resource: unknown[];
  readonly Sid?: string;
}

const asArray = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);

const normalise = (statement: Json): Statement =>
  ({ ...statement, Action: asArray(statement.Action), Resource: asArray(statement.Resource) }) as Statement;

/** The Lambda function an HTTP API route invokes, followed route -> integration -> function. */
export function functionBehind(template: Template, routeKey: string): { id: string; properties: Json } {
  const routes = Object.values(template.findResources('AWS::ApiGatewayV2::Route', { Properties: { RouteKey: routeKey } }));
  if (routes.length !== 1) throw new Error(`expected one route ${routeKey}, found ${routes.length}`);
  const integrationId: string = routes[0]!.Properties.Target['Fn::Join'][1][1].Ref;
  const integration = template.toJSON().Resources[integrationId];
  const functionId: string = integration.Properties.IntegrationUri['Fn::GetAtt'][0];
  return { id: functionId, properties: template.toJSON().Resources[functionId].Properties };
}

/** The environment variables of the function behind a route. */
export const environmentOf = (template: Template, routeKey: string): Record<string, unknown> =>
  functionBehind(template, routeKey).properties.Environment.Variables;

/** Every statement of the inline policies attached to a function's execution role. */
export function statementsOf(template: Template, functionId: string): Statement[] {
  const roleId: string = template.toJSON().Resources[functionId].Properties.Role['Fn::GetAtt'][0];
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((policy) => policy.Properties.Roles.some((role: Json) => role.Ref === roleId))
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement as Json[])
    .map(normalise);
}

/** Every statement in the template's inline IAM policies. */
export const allStatements = (template: Template): Statement[] =>
  Object.values(template.findResources('AWS::IAM::Policy'))
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement as Json[])
    .map(normalise);

/** The logical id of the resource an environment variable `{ Ref: id }` names. */
export function refOf(value: unknown): string {
  const id = (value as Json | undefined)?.Ref;
  if (typeof id !== 'string') throw new Error(`not a Ref: ${JSON.stringify(value)}`);
  return id;
}

/**
 * The logical ids of the two tables. Both expire items by TTL (codes; the
 * tombstones of erased users), so they are told apart by backups: only the
 * users table has point-in-time recovery.
 */
export function tableIds(template: Template): { codes: string; users: string } {
  const tables = Object.entries(template.findResources('AWS::DynamoDB::Table'));
  const withBackups = (enabled: boolean) =>
    tables.filter(([, table]) => table.Properties.PointInTimeRecoverySpecification?.PointInTimeRecoveryEnabled === enabled).map(([id]) => id);
  const [codes, users] = [withBackups(false), withBackups(true)];
  if (tables.length !== 2 || codes.length !== 1 || users.length !== 1) throw new Error('expected one codes and one users table');
  return { codes: codes[0]!, users: users[0]! };
}

/** `{ 'Fn::GetAtt': [id, 'Arn'] }` -> id, anything else -> undefined. */
export function arnOf(resource: unknown): string | undefined {
  const getAtt = (resource as Json | undefined)?.['Fn::GetAtt'];
  return Array.isArray(getAtt) && getAtt[1] === 'Arn' ? String(getAtt[0]) : undefined;
}

/**
 * The one metric an alarm watches, whichever way CDK renders it: at the top
 * level, or as the one returned entry of `Metrics` (a labelled metric).
 */
export function alarmMetric(alarm: Json): { Namespace: string; MetricName: string; Dimensions?: Json[]; Period: number; Statistic: string } {
  if (alarm.MetricName !== undefined) {
    const { Namespace, MetricName, Dimensions, Period } = alarm;
    return { Namespace, MetricName, Dimensions, Period, Statistic: alarm.Statistic ?? alarm.ExtendedStatistic };
  }
  const returned = (alarm.Metrics as Json[]).filter((metric) => metric.ReturnData !== false);
  if (returned.length !== 1 || returned[0]!.MetricStat === undefined) throw new Error(`not a single-metric alarm: ${JSON.stringify(alarm)}`);
  const { Metric: metric, Period, Stat } = returned[0]!.MetricStat;
  return { Namespace: metric.Namespace, MetricName: metric.MetricName, Dimensions: metric.Dimensions, Period, Statistic: Stat };
}
