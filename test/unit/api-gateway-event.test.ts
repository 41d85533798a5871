import { toApiGatewayEvent } from '../../local/api-gateway-event';

describe('the local server event, as API Gateway builds it', () => {
  const event = (rawQueryString: string) => toApiGatewayEvent({ method: 'POST', path: '/p', rawQueryString, headers: { 'Content-Type': 'a/b' }, sourceIp: '192.0.2.1' });

  it('joins a repeated query parameter with commas and lower-cases header names', () => {
    const { queryStringParameters, headers } = event('a=1&a=2&b=x%2By');
    expect({ ...queryStringParameters }).toEqual({ a: '1,2', b: 'x+y' });
    expect(headers).toEqual({ 'content-type': 'a/b' });
  });

  it('takes parameter names that objects inherit as plain names', () => {
    const { queryStringParameters = {} } = event('toString=1&__proto__=2&constructor=3');
    expect(Object.entries(queryStringParameters)).toEqual([
      ['toString', '1'],
      ['__proto__', '2'],
      ['constructor', '3'],
    ]);
  });
});
