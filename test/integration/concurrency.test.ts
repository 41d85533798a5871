import { LOCAL_SERVER_DYNAMODB_SETTINGS } from '../../functions/adapters/aws/client-config';
import { globalShardMax } from '../../functions/adapters/dynamodb/send-counters';
import { createHarness, type Harness } from '../support/harness';
import { LINK_MODES } from '../support/link-modes';
import { linkInvariantViolations } from '../support/invariants';

/**
 * Races against DynamoDB Local. Each test fires its requests at once, then
 * checks the outcome and the link invariants over the tables.
 */
const count = (answers: { code: number }[], code: number) => answers.filter((a) => a.code === code).length;
const GENEROUS = { SMS_MAX_PER_IP_PER_HOUR: '100000', SMS_MAX_PER_MINUTE: '100000', SMS_MAX_PER_COUNTRY_PER_MINUTE: '100000' };

// Both ways of writing a link: one transaction, and ordered writes (multi-Region tables); same outcomes, same invariants.
describe.each(LINK_MODES)('concurrency of links (%s)', (phoneLinks) => {
  let h: Harness;

  beforeEach(async () => {
    h = await createHarness({ env: GENEROUS, phoneLinks });
  });
  afterEach(() => h.close());

  it('many users racing for one phone with its code: one wins, the code is used once', async () => {
    const racers = await Promise.all(Array.from({ length: 25 }, () => h.newUser()));
    const code = await h.codeFor('13700137000');
    const answers = await Promise.all(racers.map((r) => h.link(r.token, { phone: '13700137000', code })));
    // Exactly one owner; every other racer is refused (never a 500), whichever refusal its timing earns.
    expect(count(answers, 200)).toBe(1);
    expect(answers.filter((a) => ![200, 5037, 5002].includes(a.code))).toEqual([]);
    expect(await linkInvariantViolations(h)).toEqual([]);
  });

  it('many users racing for a phone already taken: none wins, nothing consumed', async () => {
    const owner = await h.newUser();
    await h.link(owner.token, { phone: '13700137000', code: await h.codeFor('13700137000') });
    h.clock.advance(61_000);
    const code = await h.codeFor('13700137000');
    const racers = await Promise.all(Array.from({ length: 10 }, () => h.newUser()));
    const answers = await Promise.all(racers.map((r) => h.link(r.token, { phone: '13700137000', code })));
    // Nobody takes an owned phone; refusals consume nothing, so the owner's own link still works.
    expect(answers.filter((a) => a.code !== 5002)).toEqual([]);
    expect(await h.link(owner.token, { phone: '13700137000', code })).toMatchObject({ code: 200 });
    expect(await linkInvariantViolations(h)).toEqual([]);
  });

  it('link racing unlink for one user: the tables stay consistent whichever wins', async () => {
    for (let round = 0; round < 5; round++) {
      const user = await h.newUser();
      await h.link(user.token, { phone: '13600136000', code: await h.codeFor('13600136000') });
      const unlinkCode = await h.codeFor('13600136000', '86', '7');
      const linkCode = await h.codeFor('13500135000');
      const [unlinked, linked] = await Promise.all([
        h.unlink(user.token, { code: unlinkCode }),
        h.link(user.token, { phone: '13500135000', code: linkCode }),
      ]);
      expect([200, 5037, 5384]).toContain(unlinked.code);
      expect(linked.code).toBe(200);
      expect(await linkInvariantViolations(h)).toEqual([]);
      // Free both phones for the next round.
      h.clock.advance(61_000);
      const info = await h.userInfo(user.token);
      if (info.data?.phone) await h.unlink(user.token, { code: await h.codeFor(String(info.data.phone), '86', '7') });
      const { users } = await h.snapshot();
      expect(users.filter((i) => String(i.pk).startsWith('PHONE#'))).toHaveLength(0);
    }
  });

});

describe('concurrency of sends', () => {
  let h: Harness;

  beforeEach(async () => {
    // DynamoDB Local runs transactions one at a time, so a burst of 50 queues past the cloud's 500 ms (a cold JVM
    // takes over a second for all of them); DynamoDB answers a collision at once. The burst gets the local server's slack.
    h = await createHarness({ env: GENEROUS, dynamoDbSettings: LOCAL_SERVER_DYNAMODB_SETTINGS });
  });
  afterEach(() => h.close());

  it('50 parallel sends to one phone: at most one code goes out, the cooldown holds, only it is valid', async () => {
    const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => h.send({ phone: '13400134000' }, `198.51.100.${i}`)));
    const issued = count(answers, 200);
    expect(issued).toBeLessThanOrEqual(1);
    expect(issued + count(answers, 5058)).toBe(50);
    const sent = h.app.outbox.messagesTo('+8613400134000');
    expect(sent).toHaveLength(issued);
    const user = await h.newUser();
    for (const code of sent.map((message) => /\d{6}/.exec(message.text)![0])) {
      expect((await h.link(user.token, { phone: '13400134000', code })).code).toBe(200);
      expect((await h.link(user.token, { phone: '13400134000', code })).code).toBe(5037);
    }
  });

  it('parallel sends past the per-IP and global caps: never more issued than a cap allows, and every issue counted', async () => {
    const capped = await createHarness({ env: { SMS_MAX_PER_IP_PER_HOUR: '7', SMS_MAX_PER_MINUTE: '12' } });
    const oneIp = await Promise.all(Array.from({ length: 30 }, (_, i) => capped.send({ phone: `133001330${String(i).padStart(2, '0')}` }, '192.0.2.77')));
    const manyIps = await Promise.all(Array.from({ length: 30 }, (_, i) => capped.send({ phone: `132001320${String(i).padStart(2, '0')}` }, `192.0.2.${i + 100}`)));
    const answers = [...oneIp, ...manyIps];
    expect(answers.filter((a) => ![200, 5058].includes(a.code))).toEqual([]);
    expect(count(oneIp, 200)).toBeLessThanOrEqual(7);
    expect(count(answers, 200)).toBeLessThanOrEqual(12);
    const { codes } = await capped.snapshot();
    const counted = (prefix: string) => codes.filter((i) => String(i.pk).startsWith(prefix));
    // The global breaker's shares: each within its own, together exactly the codes issued.
    for (const share of counted('COUNT#ALL#')) expect(share.count).toBeLessThanOrEqual(globalShardMax(12, Number(String(share.pk).split('#').pop())));
    expect(sum(counted('COUNT#ALL#'))).toBe(count(answers, 200));
    expect(counted('COUNT#IP#192.0.2.77#').map((i) => i.count)).toEqual([count(oneIp, 200)]);
    capped.close();
  });

  it('parallel sends flooding one country: never more issued than its breaker allows, while other countries are served', async () => {
    const capped = await createHarness({ env: { SMS_MAX_PER_IP_PER_HOUR: '1000', SMS_MAX_PER_COUNTRY_PER_MINUTE: '9' } });
    const germany = Array.from({ length: 40 }, (_, i) => capped.send({ phone: `1511234${String(i).padStart(4, '0')}`, internationalCode: '49' }, `198.51.100.${i}`));
    const france = Array.from({ length: 8 }, (_, i) => capped.send({ phone: `61234${String(i).padStart(4, '0')}`, internationalCode: '33' }, `203.0.113.${i}`));
    const [germans, french] = [await Promise.all(germany), await Promise.all(france)];
    expect([...germans, ...french].filter((a) => ![200, 5058].includes(a.code))).toEqual([]);
    expect(count(germans, 200)).toBeLessThanOrEqual(9);
    expect(count(germans, 200)).toBeGreaterThan(0);
    // France's own breaker is untouched by Germany's flood: its sends fail only by colliding, never by a cap.
    expect(count(french, 200)).toBe(8);
    const { codes } = await capped.snapshot();
    expect(codes.filter((i) => String(i.pk).startsWith('COUNT#COUNTRY#DE#')).map((i) => i.count)).toEqual([count(germans, 200)]);
    expect(codes.filter((i) => String(i.pk).startsWith('COUNT#COUNTRY#FR#')).map((i) => i.count)).toEqual([8]);
    expect(sum(codes.filter((i) => String(i.pk).startsWith('COUNT#ALL#')))).toBe(count(germans, 200) + 8);
    capped.close();
  });
});

const sum = (counters: Record<string, unknown>[]) => counters.reduce((total, counter) => total + Number(counter.count), 0);

describe('brute force in parallel', () => {
  it('a burst of wrong guesses voids the code: the right code fails after it', async () => {
    const h = await createHarness();
    const { token } = await h.newUser();
    const code = await h.codeFor();
    const wrongs = Array.from({ length: 30 }, (_, i) => String((Number(code) + 1 + i) % 1_000_000).padStart(6, '0'));
    const answers = await Promise.all(wrongs.map((guess) => h.link(token, { phone: '13800138000', code: guess })));
    expect(answers.every((a) => a.code === 5037)).toBe(true);
    const { codes } = await h.snapshot();
    // Each guess that read a live code counted its try; those that read it already void did not need to.
    expect(codes.find((i) => i.pk === 'CODE#link#+8613800138000')?.wrongTries).toBeGreaterThanOrEqual(5);
    expect((await h.link(token, { phone: '13800138000', code })).code).toBe(5037);
    h.close();
  });
});
