import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { matchRoute, ROUTES, routeKey, type HttpFunctionName } from '../functions/http/routes';

export interface HttpRequestShape {
  readonly method: string;
  /** Path without the query string. */
  readonly path: string;
  /** The query string as sent, without `?`. */
  readonly rawQueryString: string;
  /** Header names in any case; API Gateway hands them over lower-cased. */
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body?: string;
  readonly sourceIp: string;
  /** A route with path parameters: `PUT /admin/v1/users/{uid}`. Default: the method and path. */
  readonly routeKey?: string;
  readonly pathParameters?: Record<string, string>;
}

/**
 * The API Gateway HTTP API (payload format 2.0) event for a request, as the
 * cloud builds it: lower-cased headers, decoded query parameters with a
 * repeated name joined by commas, and the caller's IP in requestContext.
 */
export function toApiGatewayEvent(request: HttpRequestShape): APIGatewayProxyEventV2 {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(',') : value;
  }
  // No prototype: a parameter named `toString` or `__proto__` is a parameter like any other.
  const query: Record<string, string> = Object.create(null);
  for (const [name, value] of new URLSearchParams(request.rawQueryString)) {
    query[name] = Object.hasOwn(query, name) ? `${query[name]},${value}` : value;
  }
  const now = new Date();
  const routeKey = request.routeKey ?? `${request.method} ${request.path}`;
  return {
    version: '2.0',
    routeKey,
    rawPath: request.path,
    rawQueryString: request.rawQueryString,
    headers,
    ...(Object.keys(query).length > 0 ? { queryStringParameters: query } : {}),
    ...(request.pathParameters ? { pathParameters: request.pathParameters } : {}),
    ...(request.body ? { body: request.body } : {}),
    isBase64Encoded: false,
    requestContext: {
      accountId: 'local',
      apiId: 'local',
      domainName: headers.host ?? 'localhost',
      domainPrefix: 'localhost',
      http: {
        method: request.method,
        path: request.path,
        protocol: 'HTTP/1.1',
        sourceIp: request.sourceIp,
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey,
      stage: '$default',
      time: now.toISOString(),
      timeEpoch: now.getTime(),
    },
  };
}

/**
 * A request to one of the API's routes (functions/http/routes.ts) as API
 * Gateway hands it over: the event with the route key and the path
 * parameters it matched, and the function that serves it. Undefined when
 * no route matches: API Gateway answers 404 without calling a function.
 */
export function routedEvent(
  request: Omit<HttpRequestShape, 'routeKey' | 'pathParameters'>,
): { readonly event: APIGatewayProxyEventV2; readonly function: HttpFunctionName } | undefined {
  const matched = matchRoute(request.method, request.path);
  if (matched === undefined) return undefined;
  const route = ROUTES[matched.name];
  const { pathParameters } = matched;
  return { event: toApiGatewayEvent({ ...request, routeKey: routeKey(route), ...(pathParameters ? { pathParameters } : {}) }), function: route.function };
}

/** Enough of a Lambda context for the handlers and their middlewares. */
export function lambdaContext(functionName: string): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${functionName}`,
    memoryLimitInMB: '256',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => 10_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
