import type { APIGatewayProxyEventV2 } from 'aws-lambda';

/**
 * Query parameters as API Gateway hands them over (decoded; a repeated name
 * arrives joined by commas). The contract puts parameters in the query string
 * on every method.
 */
export const queryOf = (event: APIGatewayProxyEventV2): Record<string, string | undefined> =>
  event.queryStringParameters ?? {};

export const sourceIpOf = (event: APIGatewayProxyEventV2): string => event.requestContext?.http?.sourceIp ?? 'unknown';
