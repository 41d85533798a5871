import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { toApiGatewayEvent } from '../../local/api-gateway-event';
import { ENVIRONMENT, functionName, idsOf, type Resolver, type Template } from './cloud-assembly';
import type { LambdaProcess } from './lambda-process';

/** A route of the template's HTTP API, followed to the function it invokes. */
export interface ApiRoute {
  readonly routeKey: string;
  readonly method: string;
  readonly pattern: RegExp;
  readonly authorizationType: string;
  readonly functionId: string;
}

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/**
 * Every AWS::ApiGatewayV2::Route: RouteKey, and Target `integrations/<ref>`
 * -> AWS::ApiGatewayV2::Integration (AWS_PROXY, payload 2.0) -> IntegrationUri
 * `Fn::GetAtt [<function>, Arn]`.
 */
export function routesOf(template: Template, resolver: Resolver): ApiRoute[] {
  return idsOf(template, 'AWS::ApiGatewayV2::Route').map((id) => {
    const route = template.Resources[id]!.Properties as Json;
    const target = resolver.string(route.Target, `${id}.Target`);
    const integrationId = /^integrations\/(.+)$/.exec(target)?.[1];
    const integration = integrationId === undefined ? undefined : (template.Resources[integrationId] as { Type: string; Properties: Json } | undefined);
    if (integration?.Type !== 'AWS::ApiGatewayV2::Integration') throw new Error(`${id}: target ${target} is no integration`);
    const { IntegrationType, PayloadFormatVersion, IntegrationUri } = integration.Properties;
    if (IntegrationType !== 'AWS_PROXY' || PayloadFormatVersion !== '2.0') throw new Error(`${integrationId}: ${IntegrationType} ${PayloadFormatVersion}, not a Lambda proxy of payload 2.0`);
    const functionId = (IntegrationUri as Json)['Fn::GetAtt']?.[0] as string | undefined;
    if (functionId === undefined || template.Resources[functionId]?.Type !== 'AWS::Lambda::Function') {
      throw new Error(`${integrationId}: IntegrationUri ${JSON.stringify(IntegrationUri)} is no function of the template`);
    }
    const routeKey = String(route.RouteKey);
    const [method, path] = routeKey.split(' ') as [string, string];
    const pattern = new RegExp(`^${path.replace(/\{(\w+)\}/g, '(?<$1>[^/]+)')}$`);
    return { routeKey, method, pattern, authorizationType: String(route.AuthorizationType ?? 'NONE'), functionId };
  });
}

export interface ApiRequest {
  readonly method: string;
  readonly path: string;
  readonly query?: Record<string, string>;
  readonly headers?: Record<string, string>;
  /** A JSON body. */
  readonly json?: unknown;
  readonly sourceIp?: string;
}

export interface ApiAnswer {
  readonly status: number;
  readonly body: string;
  /** The function behind the route, or undefined when API Gateway answered itself. */
  readonly functionId?: string;
}

/**
 * API Gateway's part: match the request to a route, build the payload 2.0
 * event, invoke the route's function and turn its result into the answer,
 * with API Gateway's own answers for no route (404) and a failed
 * invocation (500).
 */
export class DeployedHttpApi {
  /** The route keys requested that require IAM authorization: called here as if signed. */
  readonly iamAuthorized = new Set<string>();

  constructor(
    private readonly apiId: string,
    private readonly routes: readonly ApiRoute[],
    private readonly functions: ReadonlyMap<string, LambdaProcess>,
  ) {}

  async request(request: ApiRequest): Promise<ApiAnswer> {
    const matches = this.routes.flatMap((route) => {
      const match = route.method === request.method ? route.pattern.exec(request.path) : null;
      return match ? [{ route, pathParameters: { ...match.groups } }] : [];
    });
    if (matches.length > 1) throw new Error(`${request.method} ${request.path} matches ${matches.map((m) => m.route.routeKey).join(', ')}`);
    const [matched] = matches;
    if (matched === undefined) return { status: 404, body: JSON.stringify({ message: 'Not Found' }) };
    const { route, pathParameters } = matched;
    const fn = this.functions.get(route.functionId);
    if (!fn) throw new Error(`no process for ${route.functionId}`);

    const event = this.event(request, route, pathParameters);
    const context = {
      functionName: functionName(route.functionId),
      functionVersion: '$LATEST',
      invokedFunctionArn: `arn:${ENVIRONMENT.partition}:lambda:${ENVIRONMENT.region}:${ENVIRONMENT.account}:function:${route.functionId}`,
      memoryLimitInMB: '256',
      logGroupName: `/aws/lambda/${route.functionId}`,
      logStreamName: 'deployed-test',
      callbackWaitsForEmptyEventLoop: true,
    };
    const invocation = await fn.invoke(event, context);
    if ('error' in invocation) return { status: 500, body: JSON.stringify({ message: 'Internal Server Error' }), functionId: route.functionId };
    return { ...answerOf(invocation.result), functionId: route.functionId };
  }

  private event(request: ApiRequest, route: ApiRoute, pathParameters: Record<string, string>): APIGatewayProxyEventV2 {
    const body = request.json === undefined ? undefined : JSON.stringify(request.json);
    const headers = {
      host: `${this.apiId}.execute-api.${ENVIRONMENT.region}.amazonaws.com`,
      'user-agent': 'deployed-test',
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...request.headers,
    };
    const event = toApiGatewayEvent({
      method: request.method,
      path: request.path,
      rawQueryString: new URLSearchParams(request.query ?? {}).toString(),
      headers,
      ...(body === undefined ? {} : { body }),
      sourceIp: request.sourceIp ?? '198.51.100.7',
      routeKey: route.routeKey,
      ...(Object.keys(pathParameters).length > 0 ? { pathParameters } : {}),
    });
    const requestContext = { ...event.requestContext, accountId: ENVIRONMENT.account, apiId: this.apiId, domainPrefix: this.apiId };
    if (route.authorizationType === 'AWS_IAM') {
      // As if SigV4-signed by the login service's role, which API Gateway checked before invoking.
      this.iamAuthorized.add(route.routeKey);
      const userArn = `arn:aws:sts::${ENVIRONMENT.account}:assumed-role/login-service/session`;
      Object.assign(requestContext, {
        authorizer: { iam: { accessKey: 'ASIADEPLOYEDTEST', accountId: ENVIRONMENT.account, callerId: 'AROADEPLOYEDTEST:session', principalOrgId: null, userArn, userId: 'AROADEPLOYEDTEST:session' } },
      });
    } else if (route.authorizationType !== 'NONE') {
      throw new Error(`${route.routeKey}: authorization ${route.authorizationType} is not stood in for`);
    }
    return { ...event, requestContext };
  }
}

/** A payload 2.0 result as API Gateway answers it. */
function answerOf(result: unknown): { status: number; body: string } {
  if (result !== null && typeof result === 'object' && 'statusCode' in result) {
    const { statusCode, body = '', isBase64Encoded } = result as { statusCode: number; body?: string; isBase64Encoded?: boolean };
    return { status: statusCode, body: isBase64Encoded ? Buffer.from(body, 'base64').toString('utf8') : body };
  }
  return { status: 200, body: typeof result === 'string' ? result : JSON.stringify(result) };
}
