import { recordCalls } from '../support/faults';
import { createHarness, jsonBody, PHONE, type Harness } from '../support/harness';

/**
 * How many DynamoDB calls each path makes, counted on the handlers' own
 * client (one count per call, whatever the retries).
 */
describe('DynamoDB calls per request', () => {
  let h: Harness;
  let calls: string[];

  beforeAll(async () => {
    h = await createHarness();
    calls = recordCalls(h.app.db).operations;
  });
  afterAll(() => h.close());
  beforeEach(() => {
    h.clock.advance(3600_000);
  });

  const counting = async (run: () => Promise<unknown>): Promise<string[]> => {
    calls.length = 0;
    await run();
    return [...calls];
  };

  it('sendPhoneSmsCode: one transaction on success, none on a parameter error', async () => {
    expect(await counting(() => h.send({ phone: '13800138001' }))).toEqual(['TransactWriteItems']);
    expect(await counting(() => h.send({ phone: '123' }))).toEqual([]);
    expect(await counting(() => h.send({ signature: '0'.repeat(64) }))).toEqual([]);
  });

  it('relationPhone: two calls on success, two for a wrong code, none on parameter errors', async () => {
    const { token } = await h.newUser();
    const code = await h.codeFor();
    const wrong = code === '000000' ? '000001' : '000000';
    expect(await counting(() => h.link(token, { phone: '12345', code }))).toEqual([]);
    expect(await counting(() => h.link(token, { phone: PHONE }))).toEqual([]);
    expect(await counting(() => h.link('bad-token', { phone: PHONE, code }))).toEqual([]);
    expect(await counting(() => h.link(token, { phone: PHONE, code: wrong }))).toEqual(['BatchGetItem', 'UpdateItem']);
    expect(await counting(() => h.link(token, { phone: PHONE, code }))).toEqual(['BatchGetItem', 'TransactWriteItems']);
  });

  it('relationPhone for a uid never seen: still two calls, the user created inside the transaction', async () => {
    const token = await h.tokenWithoutUser();
    const phone = '13800138078';
    const code = await h.codeFor(phone);
    expect(await counting(() => h.link(token, { phone, code }))).toEqual(['BatchGetItem', 'TransactWriteItems']);
    expect((await h.userInfo(token)).data).toMatchObject({ phone });
  });

  it('userInfo and unlink for a uid never seen: one read each, no write', async () => {
    const token = await h.tokenWithoutUser();
    expect(await counting(() => h.userInfo(token))).toEqual(['GetItem']);
    expect(await counting(() => h.unlink(token, { code: '123456' }))).toEqual(['GetItem']);
  });

  it('admin link: the user, then one transaction; none when it is so already', async () => {
    const body = jsonBody({ phone: '13800138079', internationalCode: '86' });
    expect(await counting(() => h.admin('PUT', 'admin-calls', '/phone', body))).toEqual(['GetItem', 'TransactWriteItems']);
    expect(await counting(() => h.admin('PUT', 'admin-calls', '/phone', body))).toEqual(['GetItem']);
  });

  it('deletePhoneRelation: the user, the code, then one transaction', async () => {
    const { token } = await h.newUser();
    const phone = '13800138077';
    expect((await h.link(token, { phone, code: await h.codeFor(phone) })).code).toBe(200);
    const code = await h.codeFor(phone, '86', '7');
    expect(await counting(() => h.unlink(token, { code }))).toEqual(['GetItem', 'GetItem', 'TransactWriteItems']);
  });

  it('userInfo: one read', async () => {
    const { token } = await h.newUser();
    expect(await counting(() => h.userInfo(token))).toEqual(['GetItem']);
  });
});
