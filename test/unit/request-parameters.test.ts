import type { Request } from '@middy/core';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { toApiGatewayEvent, lambdaContext } from '../../local/api-gateway-event';
import { decimal, requestParameters, type ParametersContext } from '../../functions/http/middleware/request-parameters';

describe('decimal: a JSON number as the parameter string it stands for', () => {
  it.each([
    [0, '0'],
    [-0, '0'],
    [6, '6'],
    [86, '86'],
    [13800138000, '13800138000'],
    [1767225600000, '1767225600000'],
    [1e21, '1000000000000000000000'],
    [-1e21, '-1000000000000000000000'],
    [2 ** 64, '18446744073709551616'],
    [0.5, '0.5'],
    [86.25, '86.25'],
    [1.5e-7, '0.00000015'],
    [-1.5e-7, '-0.00000015'],
    [1e-7, '0.0000001'],
  ])('%p -> %p', (value, expected) => {
    expect(decimal(value)).toBe(expected);
    expect(Number(decimal(value))).toBe(value === 0 ? 0 : value);
  });

  it('never answers exponent notation', () => {
    for (const value of [Number.MAX_VALUE, Number.MIN_VALUE, -Number.MIN_VALUE, 123e45, 9.87e-12]) {
      expect(decimal(value)).toMatch(/^-?\d+(\.\d+)?$/);
      expect(Number(decimal(value))).toBe(value);
    }
  });
});

describe('requestParameters', () => {
  const parametersOf = async (body: string, contentType: string, rawQueryString = '') => {
    const event = toApiGatewayEvent({ method: 'POST', path: '/p', rawQueryString, headers: { 'content-type': contentType }, body, sourceIp: '192.0.2.1' });
    const request = { event, context: lambdaContext('p'), response: null, error: null, internal: {} } as unknown as Request<APIGatewayProxyEventV2, never, Error, ParametersContext>;
    await requestParameters().before!(request);
    return request.context.parameters;
  };

  it('hands JSON numbers over as their decimal digits', async () => {
    expect(await parametersOf('{"codeType": 3, "ts": 1767225600000, "big": 1e21, "tiny": 1.5e-7}', 'application/json')).toEqual({
      codeType: '3',
      ts: '1767225600000',
      big: '1000000000000000000000',
      tiny: '0.00000015',
    });
  });

  it('hands over a null-prototype record: prototype names are plain keys', async () => {
    const parameters = await parametersOf('{"__proto__": "a", "constructor": "b", "toString": "c"}', 'application/json', 'code=d');
    expect(Object.entries(parameters).sort()).toEqual([
      ['__proto__', 'a'],
      ['code', 'd'],
      ['constructor', 'b'],
      ['toString', 'c'],
    ]);
    expect(Object.getPrototypeOf(parameters)).toBeNull();
  });

  it('leaves the event as it came', async () => {
    const event = toApiGatewayEvent({ method: 'POST', path: '/p', rawQueryString: '', headers: { 'content-type': 'application/json' }, body: '{"a":"1"}', sourceIp: '192.0.2.1' });
    const request = { event, context: lambdaContext('p'), response: null, error: null, internal: {} } as unknown as Request<APIGatewayProxyEventV2, never, Error, ParametersContext>;
    await requestParameters().before!(request);
    expect(event.body).toBe('{"a":"1"}');
    expect(request.context.parameters).toEqual({ a: '1' });
  });
});
