import fc from 'fast-check';
import { LOCALES, messages } from '../../functions/domain/messages';
import type { HttpHandler } from '../../local/app';
import { lambdaContext, toApiGatewayEvent } from '../../local/api-gateway-event';
import { createHarness, PHONE, signatureOf, USER_DOMAIN, type Harness } from '../support/harness';

/**
 * Property tests over every parameter of every endpoint: whatever arrives
 * (huge, unicode, control characters, duplicated, odd numbers, missing,
 * empty), the answer is HTTP 200 with a documented code and message, never a
 * 500 or an internal, and a refusal changes nothing stored.
 */

/** Hostile values for one parameter; undefined = the parameter is left out. */
const hostile: fc.Arbitrary<string | undefined> = fc.oneof(
  fc.constant(undefined),
  fc.constant(''),
  fc.string({ maxLength: 30 }),
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.string({ unit: fc.integer({ min: 0, max: 31 }).map((c) => String.fromCharCode(c)), maxLength: 10 }),
  fc.string({ minLength: 2000, maxLength: 6000 }),
  fc.oneof(fc.double(), fc.integer(), fc.bigInt()).map(String),
  fc.constantFrom('1e3', '0x10', '+86', '-86', '８６', '86.0', ' 86 ', 'Infinity', 'NaN', '0', '00', '+', '6 ', '%00', '\u202e86'),
  fc.constantFrom('13800138000', '+8613800138000', '138-0013-8000', '123456', '6', '7', '1'),
);

/** A query string with the given values, some parameters repeated as they may be on the wire. */
const toRawQuery = (values: Record<string, string | undefined>, duplicate: string | undefined, extra: string) => {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(values)) if (value !== undefined) params.append(name, value);
  if (duplicate !== undefined && values[duplicate] !== undefined) params.append(duplicate, extra);
  return params.toString();
};

const knownMessages = new Set(
  LOCALES.flatMap((locale) =>
    Object.values(messages[locale]).flatMap((text) =>
      text.includes('{parameter}') ? ['codeType', 'random', 'ts'].map((name) => text.replace('{parameter}', name)) : [text],
    ),
  ),
);

describe('hostile input', () => {
  let h: Harness;
  let token: string;
  const stateChangingCodes = new Set([200, 5037, 5058]);
  /** Codes answered in the current property: proof the inputs reached past the first checks. */
  const seen = new Set<number>();
  beforeEach(() => seen.clear());

  beforeAll(async () => {
    h = await createHarness({ env: { SMS_COOLDOWN_SECONDS: '0', SMS_MAX_PER_PHONE_PER_DAY: '100000', SMS_MAX_PER_IP_PER_HOUR: '100000', SMS_MAX_PER_MINUTE: '100000' } });
    ({ token } = await h.newUser());
    await h.codeFor();
  });
  afterAll(() => h.close());

  const call = async (handler: HttpHandler, method: string, rawQueryString: string, headers: Record<string, string>) => {
    const event = toApiGatewayEvent({ method, path: '/hostile', rawQueryString, headers, sourceIp: '198.51.100.1' });
    const result = await handler(event, lambdaContext('hostile'));
    return { status: result.statusCode, body: result.body, ...(JSON.parse(result.body) as { code: number; msg: string; extMsg: string }) };
  };

  /** Runs one request and checks the answer and, for a refusal, that nothing stored changed. */
  const expectDocumentedAnswer = async (documented: number[], run: () => ReturnType<typeof call>) => {
    const before = await h.snapshot();
    const answer = await run();
    seen.add(answer.code);
    expect(answer.status).toBe(200);
    expect(documented).toContain(answer.code);
    expect(answer.extMsg).toBe('');
    expect(knownMessages).toContain(answer.msg);
    expect(answer.body).not.toMatch(/\bat .+:\d+|Exception|TypeError|stack/);
    if (!stateChangingCodes.has(answer.code)) expect(await h.snapshot()).toEqual(before);
  };

  const sendParams = ['phone', 'internationalCode', 'codeType', 'userDomain', 'random', 'ts', 'signature'] as const;

  it('sendPhoneSmsCode', async () => {
    let nonce = 0;
    await fc.assert(
      fc.asyncProperty(
        // A few parameters turned hostile at a time, so requests also get past the first checks.
        fc.subarray([...sendParams], { maxLength: 3 }).chain((names) =>
          fc.tuple(...names.map((name) => hostile.map((value) => [name, value] as const))),
        ),
        fc.option(fc.constantFrom(...sendParams), { nil: undefined, freq: 2 }),
        hostile.map((v) => v ?? 'x'),
        fc.boolean(),
        async (overrides, duplicate, extra, signOver) => {
          const base: Record<string, string | undefined> = {
            phone: PHONE,
            internationalCode: '86',
            codeType: '6',
            userDomain: USER_DOMAIN,
            random: `Hostile${String(nonce++).padStart(9, '0')}`,
            ts: String(h.clock.now()),
          };
          const values: Record<string, string | undefined> = { ...base, ...Object.fromEntries(overrides) };
          const signatureHostile = overrides.some(([name]) => name === 'signature');
          // Signed over whatever was sent, or signed wrongly: either way the checks after it run.
          if (!signatureHostile) {
            values.signature = signOver ? signatureOf(values.phone ?? '', values.codeType ?? '', values.random ?? '', values.ts ?? '') : 'f'.repeat(64);
          }
          await expectDocumentedAnswer([200, 400, 5019, 5021, 5023, 5058, 5059, 5116, 5420, 5550], () =>
            call(h.app.handlers.sendPhoneSmsCode, 'POST', toRawQuery(values, duplicate, extra), {}),
          );
        },
      ),
      {
        numRuns: 150,
        // One sure case per code the assertion below needs, so the coverage check cannot miss by chance.
        examples: [
          [[], undefined, 'x', true], // 200
          [[['phone', undefined]], undefined, 'x', true], // 5021
          [[['codeType', 'x']], undefined, 'x', true], // 400
          [[['phone', '123456']], undefined, 'x', true], // 5019
          [[], undefined, 'x', false], // 5420
        ],
      },
    );
    expect([...seen]).toEqual(expect.arrayContaining([200, 400, 5019, 5021, 5420]));
  });

  it('relationPhone', async () => {
    const names = ['phone', 'code', 'internationalCode', 'authorization'] as const;
    await fc.assert(
      fc.asyncProperty(
        fc.subarray([...names], { maxLength: 2 }).chain((picked) => fc.tuple(...picked.map((name) => hostile.map((value) => [name, value] as const)))),
        fc.option(fc.constantFrom('phone', 'code', 'internationalCode'), { nil: undefined, freq: 2 }),
        hostile.map((v) => v ?? 'x'),
        async (overrides, duplicate, extra) => {
          const values: Record<string, string | undefined> = {
            phone: PHONE,
            code: '123456',
            internationalCode: '86',
            authorization: `Bearer ${token}`,
            ...Object.fromEntries(overrides),
          };
          const { authorization, ...query } = values;
          await expectDocumentedAnswer([200, 5002, 5019, 5021, 5032, 5033, 5037, 5064, 5106], () =>
            call(h.app.handlers.relationPhone, 'POST', toRawQuery(query, duplicate, extra), authorization === undefined ? {} : { authorization }),
          );
        },
      ),
      {
        numRuns: 150,
        examples: [
          [[['phone', '12345']], undefined, 'x'], // 5019
          [[['phone', undefined]], undefined, 'x'], // 5021
          [[['authorization', 'Bearer x']], undefined, 'x'], // 5032
          [[], undefined, 'x'], // 5037
          [[['code', undefined]], undefined, 'x'], // 5064
          [[['authorization', undefined]], undefined, 'x'], // 5106
        ],
      },
    );
    expect([...seen]).toEqual(expect.arrayContaining([5019, 5021, 5032, 5037, 5064, 5106]));
  });

  it('deletePhoneRelation', async () => {
    await fc.assert(
      fc.asyncProperty(hostile, fc.boolean(), async (code, duplicate) => {
        await expectDocumentedAnswer([200, 5032, 5033, 5037, 5064, 5106, 5384], () =>
          call(h.app.handlers.deletePhoneRelation, 'DELETE', toRawQuery({ code }, duplicate ? 'code' : undefined, '123456'), { authorization: `Bearer ${token}` }),
        );
      }),
      { numRuns: 100 },
    );
  });

  it('userInfo, with hostile headers', async () => {
    await fc.assert(
      fc.asyncProperty(hostile, fc.oneof(hostile, fc.constantFrom('zh', 'zh-CN,en;q=0.5', 'en;q=0.1,zh;q=0.9')), async (authorization, language) => {
        const headers: Record<string, string> = {};
        if (authorization !== undefined) headers.authorization = authorization;
        if (language !== undefined) headers['accept-language'] = language;
        await expectDocumentedAnswer([200, 5032, 5033, 5106], () => call(h.app.handlers.userInfo, 'GET', '', headers));
      }),
      { numRuns: 100 },
    );
  });
});
