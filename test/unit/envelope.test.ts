import { fault, ok, refused } from '../../functions/http/envelope';
import { resultMessages } from '../../functions/domain/result-codes';

const bodyOf = (result: { body: string }) => JSON.parse(result.body) as Record<string, unknown>;

describe('envelope', () => {
  it('always carries code, msg, extMsg and data', () => {
    for (const result of [ok('done'), refused(5002, resultMessages[5002]), fault()]) {
      expect(Object.keys(bodyOf(result)).sort()).toEqual(['code', 'data', 'extMsg', 'msg']);
      expect(result.headers).toEqual({ 'content-type': 'application/json; charset=utf-8' });
    }
  });

  it('answers success with HTTP 200, code 200 and data', () => {
    expect(ok('Phone number linked successfully')).toMatchObject({ statusCode: 200 });
    expect(bodyOf(ok('Phone number linked successfully'))).toEqual({
      code: 200,
      msg: 'Phone number linked successfully',
      extMsg: '',
      data: {},
    });
  });

  it('answers a business refusal with HTTP 200 and its code', () => {
    expect(refused(5037, 'SMS verification code failed').statusCode).toBe(200);
    expect(bodyOf(refused(5037, 'SMS verification code failed'))).toEqual({
      code: 5037,
      msg: 'SMS verification code failed',
      extMsg: '',
      data: null,
    });
  });

  it('answers a fault with HTTP 500 and nothing else', () => {
    expect(fault().statusCode).toBe(500);
    expect(bodyOf(fault())).toEqual({ code: 500, msg: 'Internal server error', extMsg: '', data: null });
  });
});
