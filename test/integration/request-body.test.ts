import {
  base64Body,
  createHarness,
  formBody,
  jsonBody,
  PHONE,
  PHONE_E164,
  type Harness,
  type RequestBody,
} from '../support/harness';
import { LINKED, refusal } from '../support/envelopes';

// Parameters from the query, a form body or a JSON object body, on every
// endpoint, the query winning; a body that cannot be read answers 400
// "Invalid parameter: body" and changes nothing.

const INVALID_BODY = refusal(400, 'Invalid parameter: body');

/** Bodies that cannot be read as the content type they declare. */
const UNREADABLE: [string, RequestBody][] = [
  ['malformed JSON', { text: '{"phone": "13800138000",', contentType: 'application/json' }],
  ['JSON with a trailing comma', { text: '{"phone": "13800138000",}', contentType: 'application/json' }],
  ['a JSON array', jsonBody([{ phone: PHONE }])],
  ['a JSON string', jsonBody('phone=13800138000')],
  ['a JSON number', jsonBody(42)],
  ['JSON true', jsonBody(true)],
  ['JSON null', jsonBody(null)],
  ['a JSON object value', jsonBody({ phone: { national: PHONE } })],
  ['a JSON array value', jsonBody({ phone: [PHONE] })],
  ['a JSON boolean value', jsonBody({ code: true })],
  ['a JSON null value', jsonBody({ internationalCode: null })],
  ['a JSON number too large to be finite', { text: '{"ts": 1e400}', contentType: 'application/json' }],
  ['a form key repeated', { text: 'phone=1&phone=2', contentType: 'application/x-www-form-urlencoded' }],
  ['a form of a bare word', { text: 'phone', contentType: 'application/x-www-form-urlencoded' }],
  ['a vendor JSON type, malformed', { text: '{', contentType: 'application/vnd.api+json' }],
  ['malformed JSON, base64-encoded', base64Body({ text: '{"a":', contentType: 'application/json' })],
];

describe('request parameters from the body', () => {
  let h: Harness;

  // Fresh tables for every test: no phone is linked, no code is sent.
  beforeEach(async () => {
    h = await createHarness();
  });
  afterEach(() => h.close());

  describe('the whole flow with every parameter in the body', () => {
    it.each<[string, (params: Record<string, string>) => RequestBody]>([
      ['a form', (params) => formBody(params)],
      ['a form with its charset', (params) => formBody(params, 'application/x-www-form-urlencoded; charset=UTF-8')],
      ['a form, base64-encoded as HTTP APIs hand it over', (params) => base64Body(formBody(params))],
      ['a JSON object', (params) => jsonBody(params)],
      ['a JSON object, its type in capitals with a charset', (params) => jsonBody(params, 'Application/JSON ; charset=utf-8')],
      ['a JSON object of a vendor JSON type', (params) => jsonBody(params, 'application/vnd.phonelink+json')],
    ])('%s: send, link, userInfo, send, unlink', async (_case, bodyOf) => {
      const { uid, token } = await h.newUser();
      const send = (codeType: string) => h.sendRaw({}, undefined, bodyOf(h.sendQuery({ codeType }) as Record<string, string>));

      expect((await send('3')).code).toBe(200);
      expect(await h.link(token, {}, {}, bodyOf({ phone: PHONE, code: h.latestCode(), internationalCode: '86' }))).toEqual(LINKED);
      expect(await h.userInfo(token, {}, bodyOf({ unknown: 'ignored' }))).toMatchObject({ code: 200, data: { uid, phone: PHONE } });
      expect((await send('4')).code).toBe(200);
      expect(await h.unlink(token, {}, {}, bodyOf({ code: h.latestCode() }))).toMatchObject({ code: 200, msg: 'Phone number unbound successfully' });
      expect((await h.userInfo(token)).data).toMatchObject({ phone: null });
    });

    it('takes JSON numbers as their decimal digits', async () => {
      const { token } = await h.newUser();
      const query = h.sendQuery({ codeType: '3' });
      const numeric = { ...query, phone: Number(query.phone), internationalCode: 86, codeType: 3, ts: Number(query.ts) };
      expect((await h.sendRaw({}, undefined, jsonBody(numeric))).code).toBe(200);
      const code = h.latestCode();
      // As a number, a code with a leading zero would lose it (JSON has no leading zeros): such a one goes as a string.
      const asSent = code.startsWith('0') ? code : Number(code);
      expect(await h.link(token, {}, {}, jsonBody({ phone: Number(PHONE), code: asSent, internationalCode: 86 }))).toEqual(LINKED);
    });
  });

  describe('the query wins', () => {
    it('over the same name in the body', async () => {
      const { token } = await h.newUser();
      const code = await h.codeFor();
      const wrong = code === '000000' ? '000001' : '000000';
      expect(await h.link(token, { code }, {}, formBody({ phone: PHONE, code: wrong }))).toEqual(LINKED);
    });

    it('even with an empty value', async () => {
      const { token } = await h.newUser();
      const code = await h.codeFor();
      expect(await h.link(token, { phone: '' }, {}, jsonBody({ phone: PHONE, code }))).toEqual(refusal(5021, 'Please enter phone number'));
      expect(await h.link(token, { internationalCode: '' }, {}, jsonBody({ phone: PHONE, code, internationalCode: '44' }))).toEqual(LINKED);
    });

    it('for the signed parameters too: the signature is checked over what the query says', async () => {
      const signed = h.sendQuery();
      expect(await h.sendRaw({ codeType: '5' }, undefined, formBody(signed))).toEqual(refusal(400, 'Invalid parameter: codeType'));
      expect((await h.sendRaw({ phone: signed.phone }, undefined, formBody({ ...signed, phone: '13800138001' }))).code).toBe(200);
      expect(h.app.outbox.messagesTo('+8613800138001')).toEqual([]);
    });
  });

  describe('no body', () => {
    it.each([
      ['declared JSON but empty', { text: '', contentType: 'application/json' }],
      ['declared JSON but blank', { text: ' \r\n\t', contentType: 'application/json' }],
      ['declared JSON, blank once base64-decoded', base64Body({ text: '  ', contentType: 'application/json' })],
      ['declared a form but empty', { text: '', contentType: 'application/x-www-form-urlencoded' }],
    ])('%s: the query alone, as the original document has it', async (_case, body) => {
      const { token } = await h.newUser();
      expect((await h.sendRaw(h.sendQuery(), undefined, body)).code).toBe(200);
      expect(await h.link(token, { phone: PHONE, code: h.latestCode() }, {}, body)).toEqual(LINKED);
      expect((await h.userInfo(token, {}, body)).code).toBe(200);
      expect((await h.unlink(token, {}, {}, body)).code).toBe(5064);
    });
  });

  describe('other content types are not read, and not refused', () => {
    it.each([
      ['text/plain', 'phone=13800138000&code=123456'],
      ['multipart/form-data; boundary=x', '--x\r\nContent-Disposition: form-data; name="phone"\r\n\r\n13800138000\r\n--x--'],
      ['application/xml', '<phone>13800138000</phone>'],
      ['application/jsonp', '{"phone": "13800138000"}'],
    ])('%s', async (contentType, text) => {
      const { token } = await h.newUser();
      expect(await h.link(token, { code: '123456' }, {}, { text, contentType })).toEqual(refusal(5021, 'Please enter phone number'));
    });

    it('nor is a body without a content type', async () => {
      const { token } = await h.newUser();
      expect(await h.link(token, { code: '123456' }, {}, { text: '{"phone": "13800138000"}' })).toEqual(refusal(5021, 'Please enter phone number'));
    });
  });

  describe('a body that cannot be read answers 400 "Invalid parameter: body" and changes nothing', () => {
    it.each(UNREADABLE)('%s, on every endpoint', async (_case, body) => {
      const { token } = await h.newUser();
      await h.codeFor();
      const before = await h.snapshot();
      expect(await h.sendRaw(h.sendQuery(), undefined, body)).toEqual(INVALID_BODY);
      expect(await h.link(token, { phone: PHONE, code: h.latestCode() }, {}, body)).toEqual(INVALID_BODY);
      expect(await h.unlink(token, { code: '123456' }, {}, body)).toEqual(INVALID_BODY);
      expect(await h.userInfo(token, {}, body)).toEqual(INVALID_BODY);
      expect(await h.snapshot()).toEqual(before);
    });

    it('in the language of the request', async () => {
      const { token } = await h.newUser();
      expect(await h.userInfo(token, { 'X-Q-Language': 'zh-CN' }, jsonBody([]))).toEqual(refusal(400, '参数无效：body'));
    });

    it('only after the token: no token is 5106, a bad one 5032', async () => {
      const [, body] = UNREADABLE[0]!;
      for (const send of [
        (token?: string) => h.link(token, {}, {}, body),
        (token?: string) => h.unlink(token, {}, {}, body),
        (token?: string) => h.userInfo(token, {}, body),
      ]) {
        expect(await send(undefined)).toEqual(refusal(5106, 'Please enter token'));
        expect(await send('not-a-jwt')).toEqual(refusal(5032, 'Token verification failed'));
      }
    });

    it('before any parameter check on the signed send', async () => {
      expect(await h.sendRaw({}, undefined, jsonBody({ phone: false }))).toEqual(INVALID_BODY);
    });
  });

  it('keeps prototype names as plain, ignored parameters', async () => {
    const { token } = await h.newUser();
    const code = await h.codeFor();
    const hostile = `{"__proto__": {"phone": "13900139000"}, "constructor": "x", "toString": "y", "phone": "${PHONE}", "code": "${code}"}`;
    // An object value is unreadable, wherever it is.
    expect(await h.link(token, {}, {}, { text: hostile, contentType: 'application/json' })).toEqual(INVALID_BODY);
    const plain = `{"__proto__": "13900139000", "constructor": "x", "hasOwnProperty": "y", "phone": "${PHONE}", "code": "${code}"}`;
    expect(await h.link(token, {}, {}, { text: plain, contentType: 'application/json' })).toEqual(LINKED);
    // A form's `__proto__` is only a name too.
    const form = { text: '__proto__=x&__proto__=y&constructor=z&toString=w', contentType: 'application/x-www-form-urlencoded' };
    expect((await h.userInfo(token, {}, form)).code).toBe(200);
    expect((await h.userInfo(token)).data).toMatchObject({ phone: PHONE });
    const { users } = await h.snapshot();
    expect(users.filter((item) => String(item.pk).startsWith('PHONE#')).map((item) => item.pk)).toEqual([`PHONE#${PHONE_E164}`]);
  });
});
