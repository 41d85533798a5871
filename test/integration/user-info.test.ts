import { createUserInfoHandler, ready } from '../../functions/http/handlers';
import { lambdaContext, toApiGatewayEvent } from '../../local/api-gateway-event';
import { createHarness, PHONE, type Harness } from '../support/harness';

describe('GET /v2/enduser/enduserapi/userInfo', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await createHarness();
  });
  afterAll(() => h.close());

  it('answers the user with null phone fields before any link', async () => {
    const { uid, token } = await h.newUser();
    expect(await h.userInfo(token)).toEqual({
      status: 200,
      code: 200,
      msg: 'Success',
      extMsg: '',
      data: { uid, phone: null, internationalCode: null, phoneLinkedAt: null },
    });
  });

  it('shows the linked phone as national number and calling code', async () => {
    const { uid, token } = await h.newUser();
    await h.link(token, { phone: PHONE, code: await h.codeFor() });
    expect((await h.userInfo(token)).data).toEqual({
      uid,
      phone: PHONE,
      internationalCode: '86',
      phoneLinkedAt: new Date(h.clock.now()).toISOString(),
    });
  });

  it('5106 without a token, 5032 with a bad one, 5033 for an erased user', async () => {
    expect((await h.userInfo(undefined)).code).toBe(5106);
    expect((await h.userInfo('not-a-jwt')).code).toBe(5032);
    expect(await h.userInfo((await h.erasedUser()).token)).toEqual({
      status: 200,
      code: 5033,
      msg: 'User does not exist',
      extMsg: '',
      data: null,
    });
  });

  it('answers a database fault with a bare HTTP 500 envelope', async () => {
    const { token } = await h.newUser();
    const handler = createUserInfoHandler(
      { verify: async () => ({ uid: 'u1' }) },
      ready({
        users: {
          find: () => Promise.reject(new Error('ProvisionedThroughputExceeded at arn:aws:dynamodb:secret')),
          register: () => Promise.resolve(),
        },
        provisioning: 'on-first-use',
      }),
    );
    const event = toApiGatewayEvent({ method: 'GET', path: '/userInfo', rawQueryString: '', headers: { authorization: `Bearer ${token}` }, sourceIp: '127.0.0.1' });
    const result = await handler(event, lambdaContext('userInfo') as Parameters<typeof handler>[1]);
    expect(result.statusCode).toBe(500);
    expect(JSON.parse(result.body)).toEqual({ code: 500, msg: 'Internal server error', extMsg: '', data: null });
  });
});
