// First: it switches metrics on before the functions load.
import { captureEmf } from '../support/emf-capture';
import { signatureOf } from '../support/app-client';
import { refusal, refusalBody } from '../support/envelopes';
import { createHarness, PHONE_E164, USER_DOMAIN_SECRET, type Harness } from '../support/harness';
import { createSendPhoneSmsCodeHandler, ready } from '../../functions/http/handlers';
import { readCodeSettings, readSendLimits, readSignatureSettings, signatureRules } from '../../functions/config';
import { lambdaContext, toApiGatewayEvent } from '../../local/api-gateway-event';
import { SmsRefused } from '../../functions/ports';
import { neverLog } from '../support/log-hygiene';

describe('POST /v2/sms/enduserapi/v2/sendPhoneSmsCode', () => {
  let h: Harness;
  const emf = captureEmf();

  beforeAll(async () => {
    h = await createHarness();
  });
  afterAll(() => {
    h.close();
    emf.close();
  });
  // Each test starts after any cooldown or window of the one before.
  beforeEach(() => h.clock.advance(24 * 3600_000));

  it('sends a six-digit code by SMS and answers 200 with data {}', async () => {
    const answer = await h.send();
    expect(answer).toEqual({ status: 200, code: 200, msg: 'SMS verification code sent', extMsg: '', data: {} });
    const messages = h.app.outbox.messagesTo(PHONE_E164);
    expect(messages[messages.length - 1]?.text.match(/\d{6}/g)).toHaveLength(1);
  });

  it('stores only a keyed hash of the code', async () => {
    await h.send();
    const code = h.latestCode();
    const { codes } = await h.snapshot();
    expect(JSON.stringify(codes)).not.toContain(code);
    expect(codes.find((item) => item.pk === `CODE#link#${PHONE_E164}`)).toMatchObject({ codeHash: expect.stringMatching(/^[0-9a-f]{64}$/) });
  });

  describe('checks in order, the first failing one answers', () => {
    it.each([
      ['5021 without phone', { phone: undefined, internationalCode: undefined, userDomain: undefined, signature: undefined }, 5021, 'Please enter phone number'],
      ['5021 for a blank phone', { phone: '  ', internationalCode: undefined }, 5021, 'Please enter phone number'],
      ['5116 without internationalCode', { internationalCode: undefined, userDomain: undefined, signature: undefined }, 5116, 'Please enter international code'],
      ['5023 without userDomain', { userDomain: undefined, signature: undefined, codeType: 'x' }, 5023, 'Please enter user domain'],
      ['5550 without signature', { signature: undefined, codeType: 'x', phone: 'bad' }, 5550, 'Please enter signature'],
      ['400 for codeType 1 (another service)', { codeType: '1', phone: 'bad' }, 400, 'Invalid parameter: codeType'],
      ['400 for a missing codeType', { codeType: undefined, phone: 'bad' }, 400, 'Invalid parameter: codeType'],
      ['400 for a short random', { random: 'abc', phone: 'bad' }, 400, 'Invalid parameter: random'],
      ['400 for a random with symbols', { random: 'abcdefgh-1234567' }, 400, 'Invalid parameter: random'],
      ['400 for a non-numeric ts', { ts: '12:00', phone: 'bad' }, 400, 'Invalid parameter: ts'],
      ['400 for a ts with a leading zero, before the phone', { ts: '01764497160124', phone: '123' }, 400, 'Invalid parameter: ts'],
      ['400 for a ts of 12 digits, before the user domain', { ts: '176449716012', userDomain: 'unknown-domain' }, 400, 'Invalid parameter: ts'],
      ['400 for a ts of 14 digits', { ts: '17644971601240' }, 400, 'Invalid parameter: ts'],
      ['5019 for a malformed phone', { phone: '123', userDomain: 'unknown-domain' }, 5019, 'Phone number format incorrect'],
      ['5019 for a malformed internationalCode', { internationalCode: '86x' }, 5019, 'Phone number format incorrect'],
      ['5019 for a fixed line', { phone: '01012345678' }, 5019, 'Phone number format incorrect'],
      ['5420 for an unknown user domain', { userDomain: 'unknown-domain' }, 5420, 'Signature verification failed'],
      ['5420 for a wrong signature', { signature: 'f'.repeat(64) }, 5420, 'Signature verification failed'],
    ])('%s', async (_case, overrides, code, msg) => {
      const before = await h.snapshot();
      const answer = await h.send(overrides);
      expect(answer).toEqual(refusal(code, msg));
      expect(await h.snapshot()).toEqual(before);
    });

    it('5116 for a phone starting with + without internationalCode: the send always needs it', async () => {
      const before = await h.snapshot();
      expect(await h.send({ phone: '+447911123456', internationalCode: undefined })).toEqual(refusal(5116, 'Please enter international code'));
      expect(await h.snapshot()).toEqual(before);
    });

    it('5420 for a timestamp more than 10 minutes off the server clock, either way', async () => {
      for (const skew of [-600_001, 600_001]) {
        expect((await h.send({ ts: String(h.clock.now() + skew) })).code).toBe(5420);
      }
      expect((await h.send({ ts: String(h.clock.now() - 600_000) })).code).toBe(200);
    });

    it('5420 when the signature was made over other values', async () => {
      const query = h.sendQuery();
      expect((await h.sendRaw({ ...query, phone: '13800138001' })).code).toBe(5420);
    });
  });

  describe('replay protection', () => {
    it('refuses a request whose random was already used (5420)', async () => {
      const query = h.sendQuery();
      expect((await h.sendRaw(query)).code).toBe(200);
      h.clock.advance(120_000);
      expect((await h.sendRaw(query)).code).toBe(5420);
    });

    it('uses up the random even when a limit refuses the send', async () => {
      await h.send();
      const query = h.sendQuery();
      expect((await h.sendRaw(query)).code).toBe(5058);
      h.clock.advance(61_000);
      expect((await h.sendRaw({ ...query, ts: query.ts })).code).toBe(5420);
    });

    it('refuses a used random whatever else the request changes', async () => {
      const random = 'SameRandom123456';
      expect((await h.send({ random })).code).toBe(200);
      expect((await h.send({ random, phone: '13800138001', codeType: '7' })).code).toBe(5420);
    });
  });

  describe('limits (5058)', () => {
    it('allows one send per 60 s to a (phone, codeType), counted from the last code issued', async () => {
      expect((await h.send()).code).toBe(200);
      h.clock.advance(59_999);
      expect((await h.send()).code).toBe(5058);
      expect((await h.send({ codeType: '7' })).code).toBe(200);
      h.clock.advance(1);
      expect((await h.send()).code).toBe(200);
    });

    it('caps sends to one phone at 10 a UTC day', async () => {
      h.clock.advance(24 * 3600_000 - (h.clock.now() % (24 * 3600_000)));
      for (let i = 0; i < 10; i++) {
        expect((await h.send({}, `198.51.100.${i}`)).code).toBe(200);
        h.clock.advance(61_000);
      }
      expect((await h.send({}, '198.51.100.99')).code).toBe(5058);
      h.clock.advance(24 * 3600_000);
      expect((await h.send({}, '198.51.100.99')).code).toBe(200);
    });
  });

  it('counts codes issued, not refused requests', async () => {
    const limited = await createHarness({ env: { SMS_MAX_PER_IP_PER_HOUR: '2' } });
    expect((await limited.send({ signature: 'f'.repeat(64) })).code).toBe(5420);
    expect((await limited.send()).code).toBe(200);
    expect((await limited.send()).code).toBe(5058); // cooldown
    expect((await limited.send({ phone: '13800138001' })).code).toBe(200);
    expect((await limited.send({ phone: '13800138002' })).code).toBe(5058); // the IP cap of 2
    limited.close();
  });

  it('caps sends from one source IP an hour, and in all a minute', async () => {
    const limited = await createHarness({ env: { SMS_MAX_PER_IP_PER_HOUR: '2', SMS_MAX_PER_MINUTE: '3' } });
    expect((await limited.send({ phone: '13800138001' }, '192.0.2.1')).code).toBe(200);
    expect((await limited.send({ phone: '13800138002' }, '192.0.2.1')).code).toBe(200);
    expect((await limited.send({ phone: '13800138003' }, '192.0.2.1')).code).toBe(5058);
    expect((await limited.send({ phone: '13800138004' }, '192.0.2.2')).code).toBe(200);
    expect((await limited.send({ phone: '13800138005' }, '192.0.2.3')).code).toBe(5058);
    limited.clock.advance(60_000);
    expect((await limited.send({ phone: '13800138005' }, '192.0.2.3')).code).toBe(200);
    limited.close();
  });

  describe('breakers over all sends', () => {
    beforeEach(() => emf.reset());

    /** `n` sends to distinct mobiles of the country, each from its own source IP, one after the other. */
    const flood = async (harness: Harness, n: number, number: (i: number) => { phone: string; internationalCode: string }) => {
      const codes: number[] = [];
      for (let i = 0; i < n; i++) codes.push((await harness.send(number(i), `10.${i >> 8}.${i & 255}.1`)).code);
      return codes;
    };
    const german = (i: number) => ({ phone: `15112${String(i).padStart(6, '0')}`, internationalCode: '49' });
    const tally = (codes: number[]) => codes.reduce<Record<number, number>>((t, code) => ({ ...t, [code]: (t[code] ?? 0) + 1 }), {});

    it('stop a flood aimed at one country at its breaker (100 a minute), while another country is still served', async () => {
      const answers = await flood(h, 105, german);
      expect(tally(answers)).toEqual({ 200: 100, 5058: 5 });
      expect(answers.slice(100)).toEqual([5058, 5058, 5058, 5058, 5058]);
      expect((await h.send({ phone: '612345678', internationalCode: '33' }, '10.9.9.9')).code).toBe(200);
      expect(h.app.outbox.messagesTo('+33612345678')).toHaveLength(1);
      expect(emf.total('CountryBreakerTrips')).toBe(5);
      expect(emf.total('GlobalBreakerTrips')).toBe(0);
      // The next minute, Germany is served again.
      h.clock.advance(60_000);
      expect((await h.send(german(105), '10.9.9.10')).code).toBe(200);
    });

    it('issue exactly the global cap a minute though it is counted in shares, then refuse until the minute ends', async () => {
      const limited = await createHarness({ env: { SMS_MAX_PER_MINUTE: '25' } });
      const answers = await flood(limited, 30, (i) => ({ phone: `139001390${String(i).padStart(2, '0')}`, internationalCode: '86' }));
      expect(answers).toEqual([...Array<number>(25).fill(200), ...Array<number>(5).fill(5058)]);
      expect(emf.total('GlobalBreakerTrips')).toBe(5);
      const { codes } = await limited.snapshot();
      const shares = codes.filter((item) => String(item.pk).startsWith('COUNT#ALL#'));
      expect(shares.reduce((sum, share) => sum + Number(share.count), 0)).toBe(25);
      expect(shares.length).toBeGreaterThan(1);
      limited.clock.advance(60_000);
      expect((await limited.send({ phone: '13900139099' }, '10.9.9.11')).code).toBe(200);
      limited.close();
    });

    it.each(['SMS_MAX_PER_MINUTE', 'SMS_MAX_PER_COUNTRY_PER_MINUTE'])('refuse every send with 5058 when %s is 0, sending and storing nothing but the used random', async (name) => {
      const stopped = await createHarness({ env: { [name]: '0' } });
      const query = { phone: '13900139001', internationalCode: '86' };
      expect((await stopped.send(query, '10.9.9.12')).code).toBe(5058);
      stopped.clock.advance(60_000);
      expect((await stopped.send(query, '10.9.9.13')).code).toBe(5058);
      expect(stopped.app.outbox.messagesTo('+8613900139001')).toEqual([]);
      const { codes } = await stopped.snapshot();
      expect(codes.map((item) => String(item.pk).split('#')[0])).toEqual(['NONCE', 'NONCE']);
      expect(emf.total(name === 'SMS_MAX_PER_MINUTE' ? 'GlobalBreakerTrips' : 'CountryBreakerTrips')).toBe(2);
      stopped.close();
    });
  });

  it('refuses a number outside the country allow-list with 5019, sending nothing and storing nothing', async () => {
    const cnOnly = await createHarness({ env: { SMS_ALLOWED_COUNTRIES: 'CN' } });
    const before = await cnOnly.snapshot();
    expect((await cnOnly.send({ phone: '2025550123', internationalCode: '1' })).code).toBe(5019);
    expect((await cnOnly.send({ phone: '+447911123456' })).code).toBe(5019);
    expect(cnOnly.app.outbox.messagesTo('+12025550123')).toEqual([]);
    expect(await cnOnly.snapshot()).toEqual(before);
    expect((await cnOnly.send()).code).toBe(200);
    cnOnly.close();
  });

  describe('when the SMS provider fails', () => {
    /** The handler as deployed, with an SMS provider that fails as `fail` says, given the text it was handed. */
    const failingSend = (harness: Harness, fail: (text: string) => Error) =>
      createSendPhoneSmsCodeHandler(
        ready({
          issuer: harness.app.issuer,
          sms: { send: (_to: string, text: string) => Promise.reject(fail(text)) },
          clock: harness.clock,
          codeRules: { ...readCodeSettings({}), pepper: 'test-pepper' },
          sendLimits: readSendLimits({}),
          signatureRules: signatureRules(readSignatureSettings({}), JSON.stringify({ 'test.phonelink': 'test-domain-secret' })),
        }),
      );
    const sendThrough = async (handler: ReturnType<typeof failingSend>) => {
      const event = toApiGatewayEvent({ method: 'POST', path: '/send', rawQueryString: new URLSearchParams(h.sendQuery() as Record<string, string>).toString(), headers: {}, sourceIp: '192.0.2.50' });
      return handler(event, lambdaContext('send') as Parameters<typeof handler>[1]);
    };
    const ipCount = async () => (await h.snapshot()).codes.find((item) => String(item.pk).startsWith('COUNT#IP#192.0.2.50#'))?.count;

    it('a definite refusal answers 5059, leaves no valid code (not even an earlier one) and counts nothing', async () => {
      const { token } = await h.newUser();
      const earlier = await h.codeFor();
      h.clock.advance(61_000);
      const result = await sendThrough(failingSend(h, () => new SmsRefused('provider exploded: secret internals')));
      expect(result.statusCode).toBe(200);
      expect(JSON.parse(result.body)).toEqual(refusalBody(5059, 'SMS sending exception'));
      expect(result.body).not.toContain('exploded');

      expect((await h.link(token, { phone: '13800138000', code: earlier })).code).toBe(5037);
      // No cooldown was started by the refused send: a new code goes out at once.
      expect((await h.send({}, '192.0.2.50')).code).toBe(200);
      expect(await ipCount()).toBe(1);
    });

    it('an unknown outcome answers 5059; the code it carried stays valid and the send counted', async () => {
      const { token } = await h.newUser();
      let carried = '';
      const result = await sendThrough(
        failingSend(h, (text) => {
          carried = /\d{6}/.exec(text)?.[0] ?? '';
          neverLog(carried);
          return new Error('provider exploded: secret internals');
        }),
      );
      expect(JSON.parse(result.body)).toEqual(refusalBody(5059, 'SMS sending exception'));
      expect(result.body).not.toContain('exploded');

      expect(await ipCount()).toBe(1);
      expect((await h.send({}, '192.0.2.50')).code).toBe(5058);
      expect((await h.link(token, { phone: '13800138000', code: carried })).code).toBe(200);
    });
  });

  it.each([
    ['uppercase', (signature: string) => signature.toUpperCase()],
    ['mixed-case', (signature: string) => signature.replace(/[a-f]/, (letter) => letter.toUpperCase())],
  ])('accepts a %s hex signature', async (_case, recase) => {
    const query = h.sendQuery();
    const signature = recase(query.signature ?? '');
    expect(signature).not.toBe(query.signature);
    expect((await h.sendRaw({ ...query, signature })).code).toBe(200);
  });

  it('refuses the uppercase hex of another signature (5420)', async () => {
    const query = h.sendQuery();
    expect((await h.sendRaw({ ...query, signature: signatureOf({ ...query, codeType: '4' }, USER_DOMAIN_SECRET).toUpperCase() })).code).toBe(5420);
  });

  it('signs over each value exactly as sent', async () => {
    const random = 'Abcdefgh12345678';
    const ts = String(h.clock.now());
    const phone = '138 0013 8000';
    const answer = await h.sendRaw({ phone, internationalCode: '+86', codeType: '6', userDomain: 'test.phonelink', random, ts, signature: signatureOf({ phone, codeType: '6', random, ts }, USER_DOMAIN_SECRET) });
    expect(answer.code).toBe(200);
  });
});
