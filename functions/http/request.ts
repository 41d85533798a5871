import type { APIGatewayProxyEventV2 } from 'aws-lambda';

export const sourceIpOf = (event: APIGatewayProxyEventV2): string => event.requestContext?.http?.sourceIp ?? 'unknown';
