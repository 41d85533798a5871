import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import { CLIENT_SETTINGS, clientConfig } from '../../functions/adapters/aws/client-config';
import { SnsSmsSender } from '../../functions/adapters/sms/sns-sms-sender';
import { LAST_CALL_MS, RESPONSE_MARGIN_MS } from '../../functions/request-budget';
import { SmsRefused } from '../../functions/ports';
import { messageOf, neverAnswers, published, snsError, stubService, type Reply, type StubService } from '../support/aws-stub';
import { refusal } from '../support/envelopes';
import { createHarness, jsonBody, PHONE, PHONE_E164, type Answer, type Harness } from '../support/harness';
import { neverLog } from '../support/log-hygiene';
import { injectDynamoFault, type FaultKind } from '../support/faults';
import { linkInvariantViolations } from '../support/invariants';

const internalError = { status: 500, code: 500, msg: 'Internal server error', extMsg: '', data: null };
const kinds: FaultKind[] = ['throttling', 'serverError', 'timeout', 'networkReset'];
/** The SDK's attempts at each DynamoDB call, the first included. */
const ATTEMPTS = CLIENT_SETTINGS.dynamodb.maxAttempts;

/**
 * Each DynamoDB call of each path fails in turn, below the SDK's retry
 * middleware. A fault that outlasts the SDK's attempts answers a bare
 * HTTP 500 and leaves the tables as they were (or, when the write landed and
 * only its answers were lost, fully applied, never half); a blip is retried
 * through and the request succeeds. The SDK retries throttling, 5xx,
 * timeouts and resets alike, on every call: each write recognises its own
 * retry (transactions by their request token, a wrong try by its id, a
 * nonce by its issue), so a retry never counts or refuses anything twice.
 */
describe('DynamoDB faults', () => {
  let h: Harness;

  beforeEach(async () => {
    h = await createHarness();
  });
  afterEach(() => h.close());

  /** Every path, prepared, with the DynamoDB calls it makes (as database-calls.test.ts pins them). */
  const paths: Record<string, { calls: string[]; answers: number; run: (h: Harness) => Promise<() => Promise<Answer>> }> = {
    'sendPhoneSmsCode success': { calls: ['TransactWriteItems'], answers: 200, run: async (hh) => () => hh.send() },
    'relationPhone success': {
      calls: ['BatchGetItem', 'TransactWriteItems'],
      answers: 200,
      run: async (hh) => {
        const { token } = await hh.newUser();
        const code = await hh.codeFor();
        return () => hh.link(token, { phone: PHONE, code });
      },
    },
    'relationPhone success for a uid never seen': {
      calls: ['BatchGetItem', 'TransactWriteItems'],
      answers: 200,
      run: async (hh) => {
        const token = await hh.tokenWithoutUser();
        const code = await hh.codeFor();
        return () => hh.link(token, { phone: PHONE, code });
      },
    },
    'relationPhone wrong code': {
      calls: ['BatchGetItem', 'UpdateItem'],
      answers: 5037,
      run: async (hh) => {
        const { token } = await hh.newUser();
        const code = await hh.codeFor();
        return () => hh.link(token, { phone: PHONE, code: code === '000000' ? '000001' : '000000' });
      },
    },
    'deletePhoneRelation success': {
      calls: ['GetItem', 'GetItem', 'TransactWriteItems'],
      answers: 200,
      run: async (hh) => {
        const { token } = await hh.newUser();
        await hh.link(token, { phone: PHONE, code: await hh.codeFor() });
        const code = await hh.codeFor(PHONE, '86', '7');
        return () => hh.unlink(token, { code });
      },
    },
    'admin register': { calls: ['PutItem'], answers: 200, run: async (hh) => () => hh.admin('PUT', 'registered-by-admin') },
    'admin link': {
      calls: ['GetItem', 'TransactWriteItems'],
      answers: 200,
      run: async (hh) => {
        const { uid } = await hh.newUser();
        return () => hh.admin('PUT', uid, '/phone', jsonBody({ phone: PHONE, internationalCode: '86' }));
      },
    },
    'admin erase': {
      calls: ['GetItem', 'TransactWriteItems'],
      answers: 200,
      run: async (hh) => {
        const { uid, token } = await hh.newUser();
        await hh.link(token, { phone: PHONE, code: await hh.codeFor() });
        return () => hh.admin('DELETE', uid);
      },
    },
    userInfo: {
      calls: ['GetItem'],
      answers: 200,
      run: async (hh) => {
        const { token } = await hh.newUser();
        return () => hh.userInfo(token);
      },
    },
  };

  const wrongTriesStored = async () => (await h.snapshot()).codes.find((item) => String(item.pk).startsWith('CODE#'))?.wrongTries;
  const counts = async () => (await h.snapshot()).codes.filter((item) => String(item.pk).startsWith('COUNT#')).map((item) => item.count);

  // Every kind on every call: a timeout and a reset on the UpdateItem of a wrong code included.
  const cases = Object.entries(paths).flatMap(([path, { calls }]) =>
    calls.flatMap((operation, i) => kinds.map((kind) => ({ path, call: i + 1, operation, kind }))),
  );

  it.each(cases)('$path, call $call ($operation) fails for good ($kind): HTTP 500, tables unchanged', async ({ path, call, kind }) => {
    const request = await paths[path]!.run(h);
    const before = await h.snapshot();
    const fault = injectDynamoFault(h.app.db, { call, kind, mode: 'before', attempts: Infinity });
    const answer = await request();
    fault.remove();
    expect(answer).toEqual(internalError);
    expect(fault.failedAttempts()).toBe(ATTEMPTS);
    expect(await h.snapshot()).toEqual(before);
  });

  it.each(cases)('$path, call $call ($operation) fails once ($kind): retried through, answered as usual', async ({ path, call, kind }) => {
    const request = await paths[path]!.run(h);
    const fault = injectDynamoFault(h.app.db, { call, kind, mode: 'before', attempts: 1 });
    const answer = await request();
    fault.remove();
    expect(answer).toMatchObject({ status: 200, code: paths[path]!.answers });
    expect(fault.failedAttempts()).toBe(1);
  });

  // The harder blip: the call reached DynamoDB and did its work, and only its answer was lost.
  const lostOnce = cases.filter((c) => c.kind === 'timeout' || c.kind === 'networkReset');

  it.each(lostOnce)('$path, call $call ($operation) done but its answer lost once ($kind): the retry recognises itself', async ({ path, call, kind }) => {
    const request = await paths[path]!.run(h);
    const fault = injectDynamoFault(h.app.db, { call, kind, mode: 'after', attempts: 1 });
    const answer = await request();
    fault.remove();
    expect(answer).toMatchObject({ status: 200, code: paths[path]!.answers });
    expect(fault.failedAttempts()).toBe(1);
    expect(await linkInvariantViolations(h)).toEqual([]);
  });

  it('a wrong guess that collides with transactions on its code is tried again until it is counted, then answered', async () => {
    const { token } = await h.newUser();
    const code = await h.codeFor();
    // Calls 2 to 4: the wrong try's UpdateItem, colliding three times in a row.
    const fault = injectDynamoFault(h.app.db, { call: 2, untilCall: 4, kind: 'transactionConflict', mode: 'before', attempts: Infinity });
    const answer = await h.link(token, { phone: PHONE, code: code === '000000' ? '000001' : '000000' });
    fault.remove();
    expect(fault.failedAttempts()).toBe(3);
    expect(answer).toMatchObject({ status: 200, code: 5037 });
    expect(await wrongTriesStored()).toBe(1);
  });

  it('a wrong guess whose collisions outlast its deadline is a 500, never a 5037 it was not counted for', async () => {
    // A short budget: the collisions are tried again only until the deadline leaves no room for another try.
    h.close();
    h = await createHarness({ remainingTimeMs: RESPONSE_MARGIN_MS + LAST_CALL_MS + 100 });
    const { token } = await h.newUser();
    const code = await h.codeFor();
    const fault = injectDynamoFault(h.app.db, { call: 2, untilCall: 1000, kind: 'transactionConflict', mode: 'before', attempts: Infinity });
    const answer = await h.link(token, { phone: PHONE, code: code === '000000' ? '000001' : '000000' });
    fault.remove();
    expect(answer).toEqual(internalError);
    expect(await wrongTriesStored()).toBe(0);
  });

  it('a send done but whose answer is lost once is issued and counted once: the retry carries the same request token', async () => {
    const fault = injectDynamoFault(h.app.db, { call: 1, kind: 'networkReset', mode: 'after', attempts: 1 });
    expect((await h.send()).code).toBe(200);
    fault.remove();
    expect(fault.failedAttempts()).toBe(1);
    expect(await counts()).toEqual([1, 1, 1, 1]);
  });

  it('a refused send whose lone nonce write is answered but lost once still answers 5058, never a replay', async () => {
    expect((await h.send()).code).toBe(200);
    // Within the cooldown the transaction is refused (call 1); the random is then used up alone (call 2).
    const fault = injectDynamoFault(h.app.db, { call: 2, kind: 'timeout', mode: 'after', attempts: 1 });
    const answer = await h.send();
    fault.remove();
    expect(fault.calls()).toBe(2);
    expect(fault.failedAttempts()).toBe(1);
    expect(answer.code).toBe(5058);
  });


  it('a wrong try whose UpdateItem answer is lost once is counted once: the retry recognises itself', async () => {
    const { token } = await h.newUser();
    const code = await h.codeFor();
    const fault = injectDynamoFault(h.app.db, { call: 2, kind: 'timeout', mode: 'after', attempts: 1 });
    expect((await h.link(token, { phone: PHONE, code: code === '000000' ? '000001' : '000000' })).code).toBe(5037);
    fault.remove();
    expect(fault.failedAttempts()).toBe(1);
    expect(await wrongTriesStored()).toBe(1);
  });

  it('a wrong try whose every answer is lost is counted once, though the SDK sent it on every attempt', async () => {
    const { token } = await h.newUser();
    const code = await h.codeFor();
    const fault = injectDynamoFault(h.app.db, { call: 2, kind: 'timeout', mode: 'after', attempts: Infinity });
    expect(await h.link(token, { phone: PHONE, code: code === '000000' ? '000001' : '000000' })).toEqual(internalError);
    fault.remove();
    expect(fault.failedAttempts()).toBe(ATTEMPTS);
    expect(await wrongTriesStored()).toBe(1);
  });

  it('a transaction cancelled for no reason it can decide on is a fault (500), never a refusal', async () => {
    const before = await h.snapshot();
    const name = 'cancelledForNoReason';
    // Only the transaction: a lone nonce write after it would still work.
    h.app.db.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName !== 'TransactWriteItemsCommand') return next(args);
        throw new TransactionCanceledException({ message: 'Transaction cancelled', $metadata: {}, CancellationReasons: [{ Code: 'None' }, { Code: 'None' }] });
      },
      { step: 'finalizeRequest', priority: 'low', name },
    );
    const answer = await h.send();
    h.app.db.middlewareStack.remove(name);
    expect(answer).toEqual(internalError);
    expect(await h.snapshot()).toEqual(before);
  });

  const loseEveryAnswer = (call: number) => injectDynamoFault(h.app.db, { call, kind: 'timeout', mode: 'after', attempts: Infinity });

  it('a link whose transaction answer is lost is fully applied, never half', async () => {
    const { uid, token } = await h.newUser();
    const code = await h.codeFor();
    const fault = loseEveryAnswer(2);
    expect(await h.link(token, { phone: PHONE, code })).toEqual(internalError);
    fault.remove();
    expect(await linkInvariantViolations(h)).toEqual([]);
    expect((await h.userInfo(token)).data).toMatchObject({ uid, phone: PHONE });
    expect((await h.link(token, { phone: PHONE, code })).code).toBe(5037); // consumed with the link
  });

  it('an unlink whose transaction answer is lost is fully applied, never half', async () => {
    const { token } = await h.newUser();
    await h.link(token, { phone: PHONE, code: await h.codeFor() });
    const code = await h.codeFor(PHONE, '86', '7');
    const fault = loseEveryAnswer(3);
    expect(await h.unlink(token, { code })).toEqual(internalError);
    fault.remove();
    expect(await linkInvariantViolations(h)).toEqual([]);
    expect((await h.userInfo(token)).data).toMatchObject({ phone: null });
  });

  it('a send whose transaction answer is lost is issued and counted once, although sent on every attempt', async () => {
    // No cooldown, so only the request token can keep a retry from issuing (and counting) again.
    const noCooldown = await createHarness({ env: { SMS_COOLDOWN_SECONDS: '0' } });
    const fault = injectDynamoFault(noCooldown.app.db, { call: 1, kind: 'timeout', mode: 'after', attempts: Infinity });
    expect(await noCooldown.send()).toEqual(internalError);
    fault.remove();
    expect(fault.failedAttempts()).toBe(ATTEMPTS);
    const { codes } = await noCooldown.snapshot();
    noCooldown.close();
    expect(codes.filter((item) => String(item.pk).startsWith('COUNT#')).map((item) => item.count)).toEqual([1, 1, 1, 1]);
  });

  it('a lost answer to the link is retried into success by the idempotency token', async () => {
    const request = await paths['relationPhone success']!.run(h);
    const fault = injectDynamoFault(h.app.db, { call: 2, kind: 'networkReset', mode: 'after', attempts: 1 });
    const answer = await request();
    fault.remove();
    expect(answer.code).toBe(200);
    expect(await linkInvariantViolations(h)).toEqual([]);
  });
});

describe('SMS provider faults', () => {
  const smsRefused = () => new SmsRefused('SNS refused the Publish: InvalidParameterException (HTTP 400)');
  const codeOf = (text: string | undefined): string => {
    const code = /\d{6}/.exec(text ?? '')?.[0];
    if (!code) throw new Error(`no code in ${JSON.stringify(text)}`);
    neverLog(code);
    return code;
  };
  const kinds = (codes: Record<string, unknown>[]) => codes.map((i) => String(i.pk).split('#')[0]).sort();

  it('a definite refusal answers 5059, withdraws the code and the counts, and keeps the random used', async () => {
    const h = await createHarness();
    const original = h.app.outbox.send.bind(h.app.outbox);
    h.app.outbox.send = () => Promise.reject(smsRefused());
    const query = h.sendQuery();
    const before = await h.snapshot();
    expect(await h.sendRaw(query)).toEqual(refusal(5059, 'SMS sending exception'));
    const added = (await h.snapshot()).codes.filter((item) => !before.codes.some((b) => b.pk === item.pk));
    // No code; the counters back at 0; only the used random stays.
    expect(kinds(added)).toEqual(['COUNT', 'COUNT', 'COUNT', 'COUNT', 'NONCE']);
    expect(added.filter((i) => String(i.pk).startsWith('COUNT#')).map((i) => i.count)).toEqual([0, 0, 0, 0]);
    h.app.outbox.send = original;
    expect((await h.sendRaw(query)).code).toBe(5420);
    // Within the cooldown: the refused send started none.
    expect((await h.send()).code).toBe(200);
    h.close();
  });

  it('an unknown outcome answers 5059 and keeps the code valid and the send counted', async () => {
    const h = await createHarness();
    const { token } = await h.newUser();
    let delivered: string | undefined;
    // The message left, and its answer was lost: the phone may well have it.
    h.app.outbox.send = (_to, text) => {
      delivered = text;
      return Promise.reject(Object.assign(new Error('Connection timed out after 2500 ms'), { name: 'TimeoutError' }));
    };
    expect(await h.send()).toEqual(refusal(5059, 'SMS sending exception'));
    const { codes } = await h.snapshot();
    expect(kinds(codes)).toEqual(['CODE', 'COUNT', 'COUNT', 'COUNT', 'COUNT', 'NONCE']);
    expect(codes.filter((i) => String(i.pk).startsWith('COUNT#')).map((i) => i.count)).toEqual([1, 1, 1, 1]);
    // Counted: a second send within the cooldown is refused; the code still links.
    expect((await h.send()).code).toBe(5058);
    expect((await h.link(token, { phone: PHONE, code: codeOf(delivered) })).code).toBe(200);
    h.close();
  });

  it('when the provider refuses and the clean-up fails, answers 500 with the code fully issued, never half', async () => {
    const h = await createHarness();
    h.app.outbox.send = () => Promise.reject(smsRefused());
    const fault = injectDynamoFault(h.app.db, { call: 2, kind: 'serverError', mode: 'before', attempts: Infinity });
    const answer = await h.send();
    fault.remove();
    expect(answer).toEqual(internalError);
    const { codes } = await h.snapshot();
    expect(codes.filter((i) => String(i.pk).startsWith('COUNT#')).every((i) => i.count === 1)).toBe(true);
    expect(codes.filter((i) => String(i.pk).startsWith('CODE#'))).toHaveLength(1);
    h.close();
  });

  describe('through the SNS adapter, against SNS on loopback', () => {
    let h: Harness;
    let sns: StubService;

    beforeEach(async () => {
      h = await createHarness();
      sns = await stubService(published);
      const sender = new SnsSmsSender({ senderId: undefined }, new SNSClient({ ...clientConfig('sns', { endpoint: sns.endpoint }), region: 'eu-west-1' }));
      h.app.outbox.send = (to, text) => sender.send(to, text);
    });
    afterEach(async () => {
      h.close();
      await sns.close();
    });

    it('SNS refuses the number: 5059, no valid code is left and nothing counts, so the next send goes out at once', async () => {
      sns.answerWith(snsError(400, 'InvalidParameter', `Invalid parameter: PhoneNumber Reason: ${PHONE_E164} is not valid to publish to`));
      const { token } = await h.newUser();
      expect((await h.send()).code).toBe(5059);
      const refused = codeOf(messageOf(sns.received[0]));
      expect((await h.link(token, { phone: PHONE, code: refused })).code).toBe(5037);
      sns.answerWith(published);
      expect((await h.send()).code).toBe(200);
      expect((await h.link(token, { phone: PHONE, code: codeOf(messageOf(sns.received[1])) })).code).toBe(200);
    });

    it.each([
      { answer: 'answers 500', reply: snsError(500, 'InternalError', 'Internal error') },
      { answer: 'drops the connection', reply: ((_request, res) => res.socket?.destroy()) as Reply },
      { answer: 'never answers', reply: neverAnswers },
    ])('SNS $answer: 5059, the code stays usable and counted, so a second send within the cooldown is 5058', async ({ reply }) => {
      sns.answerWith(reply);
      const { token } = await h.newUser();
      expect((await h.send()).code).toBe(5059);
      sns.answerWith(published);
      expect((await h.send()).code).toBe(5058);
      expect(sns.received).toHaveLength(1);
      expect((await h.link(token, { phone: PHONE, code: codeOf(messageOf(sns.received[0])) })).code).toBe(200);
    });
  });
});
