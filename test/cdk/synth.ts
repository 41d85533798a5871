import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { PhoneLinkStack } from '../../lib/phone-link-stack';
import { readStageConfig, stackName } from '../../lib/stage-config';

/** Context a prod synth needs. */
export const PROD_CONTEXT = {
  stage: 'prod',
  jwksUrl: 'https://login.example.com/.well-known/jwks.json',
  userDomainSecrets: '{"d":"s"}',
  codePepper: 'x',
} as const;

/**
 * Synthesises the stack the way bin/app.ts does, from context, but with
 * bundling skipped (`aws:cdk:bundling-stacks: []`): no esbuild, fast tests.
 */
export function synthesize(context: Record<string, unknown> = {}): { stack: PhoneLinkStack; template: Template } {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [], ...context } });
  const config = readStageConfig(app.node);
  const stack = new PhoneLinkStack(app, stackName(config.stage), { config });
  return { stack, template: Template.fromStack(stack) };
}

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface Statement {
  readonly Effect: 'Allow' | 'Deny';
  readonly Action: string[];
  readonly Resource: unknown[];
  readonly Sid?: string;
}

const asArray = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);

/** The Lambda function an HTTP API route invokes, followed route -> integration -> function. */
export function functionBehind(template: Template, routeKey: string): { id: string; properties: Json } {
  const routes = Object.values(template.findResources('AWS::ApiGatewayV2::Route', { Properties: { RouteKey: routeKey } }));
  if (routes.length !== 1) throw new Error(`expected one route ${routeKey}, found ${routes.length}`);
  const integrationId: string = routes[0]!.Properties.Target['Fn::Join'][1][1].Ref;
  const integration = template.toJSON().Resources[integrationId];
  const functionId: string = integration.Properties.IntegrationUri['Fn::GetAtt'][0];
  return { id: functionId, properties: template.toJSON().Resources[functionId].Properties };
}

/** Every statement of the inline policies attached to a function's execution role. */
export function statementsOf(template: Template, functionId: string): Statement[] {
  const roleId: string = template.toJSON().Resources[functionId].Properties.Role['Fn::GetAtt'][0];
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((policy) => policy.Properties.Roles.some((role: Json) => role.Ref === roleId))
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement as Json[])
    .map((statement) => ({ ...statement, Action: asArray(statement.Action), Resource: asArray(statement.Resource) }) as Statement);
}

/** Every statement in the template's inline IAM policies. */
export const allStatements = (template: Template): Statement[] =>
  Object.values(template.findResources('AWS::IAM::Policy'))
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement as Json[])
    .map((statement) => ({ ...statement, Action: asArray(statement.Action), Resource: asArray(statement.Resource) }) as Statement);

/** The logical id of the resource an environment variable `{ Ref: id }` names. */
export function refOf(value: unknown): string {
  const id = (value as Json | undefined)?.Ref;
  if (typeof id !== 'string') throw new Error(`not a Ref: ${JSON.stringify(value)}`);
  return id;
}

/** `{ 'Fn::GetAtt': [id, 'Arn'] }` -> id, anything else -> undefined. */
export function arnOf(resource: unknown): string | undefined {
  const getAtt = (resource as Json | undefined)?.['Fn::GetAtt'];
  return Array.isArray(getAtt) && getAtt[1] === 'Arn' ? String(getAtt[0]) : undefined;
}
