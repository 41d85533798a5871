// Metrics are counted here: the capture must switch them on before the functions load.
import { captureEmf, type EmfCapture } from '../support/emf-capture';
import { randomUUID } from 'node:crypto';
import { LOCAL_SERVER_DYNAMODB_SETTINGS } from '../../functions/adapters/aws/client-config';
import { RESPONSE_MARGIN_MS } from '../../functions/request-budget';
import { refusal } from '../support/envelopes';
import { injectDynamoFault } from '../support/faults';
import { createHarness, jsonBody, type Answer, type Harness } from '../support/harness';
import { LINK_MODES } from '../support/link-modes';
import { linkInvariantViolations, pendingMarkers } from '../support/invariants';

/**
 * One user's own concurrent requests (docs/API.md, Conventions): they take
 * effect one after the other, each answers what some serial order would
 * give it and none answers 500, up to at least 32 at once; one that cannot
 * get its turn within its budget answers 5058. In both ways of writing
 * links, through the real handlers on DynamoDB Local.
 */

// Every metric line of the file, kept off the console; the tests that count one start afresh.
let emf: EmfCapture;
beforeAll(() => {
  emf = captureEmf();
});
afterAll(() => emf.close());

const GENEROUS = { SMS_MAX_PER_IP_PER_HOUR: '100000', SMS_MAX_PER_MINUTE: '100000', SMS_MAX_PER_COUNTRY_PER_MINUTE: '100000' };
const count = (answers: Answer[], code: number) => answers.filter((answer) => answer.status === 200 && answer.code === code).length;
const notAmong = (answers: Answer[], codes: number[]) => answers.filter((answer) => answer.status !== 200 || !codes.includes(answer.code));
/** `n` national mobile numbers starting with `prefix` (4 digits), one per index. */
const series = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(7, '0')}`);
/** Resolves once `n` of the promises have settled. */
const settled = (promises: Promise<unknown>[], n: number) =>
  new Promise<void>((resolve) => {
    let done = 0;
    const one = () => ++done === n && resolve();
    for (const promise of promises) promise.then(one, one);
  });
/** The phone claims of one user in a users table's items. */
const claimsOf = (uid: string, items: Record<string, unknown>[]) => items.filter((item) => item.uid === uid && String(item.pk).startsWith('PHONE#')).map((item) => String(item.pk));

describe.each(LINK_MODES)('one user racing itself (%s)', (phoneLinks) => {
  let h: Harness;

  beforeAll(async () => {
    // DynamoDB Local runs a burst's writes one at a time, slower than the cloud's 500 ms attempt allows: the local server's slack.
    h = await createHarness({ env: GENEROUS, phoneLinks, dynamoDbSettings: LOCAL_SERVER_DYNAMODB_SETTINGS });
  });
  afterAll(() => h.close());

  it('24 relationPhone at once, each with its own code for its own phone: every one links in turn, and the user ends with one phone and its claim alone', async () => {
    const user = await h.newUser();
    const phones = series('1391', 24);
    // One after the other: sends at once would collide on their counters, and only slow the set-up down.
    const codes: string[] = [];
    for (const phone of phones) codes.push(await h.codeFor(phone));

    const answers = await Promise.all(phones.map((phone, i) => h.link(user.token, { phone, code: codes[i] })));

    // In any serial order each link succeeds, moving the user on from the phone before.
    expect(notAmong(answers, [200])).toEqual([]);
    const held = String((await h.userInfo(user.token)).data?.phone);
    expect(phones).toContain(held);
    const snapshot = await h.snapshot();
    expect(claimsOf(user.uid, snapshot.users)).toEqual([`PHONE#+86${held}`]);
    // Each link used its own code.
    expect(snapshot.codes.filter((item) => String(item.pk).startsWith('CODE#link#') && item.codeHash !== undefined)).toEqual([]);
    expect(await linkInvariantViolations(h)).toEqual([]);
    expect(await pendingMarkers(h)).toEqual([]);
  });

  it('32 admin links of one uid at once, each to its own phone: every one links in turn, none finds its phone already there', async () => {
    const uid = `racer-${randomUUID()}`;
    const phones = series('1392', 32);

    const answers = await Promise.all(phones.map((phone) => h.admin('PUT', uid, '/phone', jsonBody({ phone, internationalCode: '86' }))));

    expect(notAmong(answers, [200])).toEqual([]);
    expect(answers.filter((answer) => answer.data?.alreadyLinked !== false)).toEqual([]);
    const held = String((await h.admin('GET', uid)).data?.phone);
    expect(phones).toContain(held);
    expect(claimsOf(uid, (await h.snapshot()).users)).toEqual([`PHONE#+86${held}`]);
    expect(await linkInvariantViolations(h)).toEqual([]);
    expect(await pendingMarkers(h)).toEqual([]);
  });

  it('unlinks, erasures and admin links of one user at once: each answers as in some serial order, and the user ends erased with no claim', async () => {
    const user = await h.newUser();
    const [phone] = series('1393', 1);
    await h.link(user.token, { phone: phone!, code: await h.codeFor(phone) });
    const unlinkCode = await h.codeFor(phone, '86', '4');
    const others = series('1394', 24);
    const four = [1, 2, 3, 4];

    // 32 in all: 24 admin links, each to its own phone, and 4 unlinks with the code for the phone the user had, at once;
    // 4 erasures once half the links have answered, while the others still take their turns.
    const linking = others.map((other) => h.admin('PUT', user.uid, '/phone', jsonBody({ phone: other, internationalCode: '86' })));
    const unlinking = four.map(() => h.unlink(user.token, { code: unlinkCode }));
    await settled(linking, linking.length / 2);
    const erasing = four.map(() => h.admin('DELETE', user.uid));
    const [links, unlinks, erasures] = await Promise.all([Promise.all(linking), Promise.all(unlinking), Promise.all(erasing)]);

    // Every erasure succeeds (the first leaves the tombstone, the others find it); a link before it moves the user, after it finds no user.
    expect(notAmong(erasures, [200])).toEqual([]);
    expect(notAmong(links, [200, 5033])).toEqual([]);
    // The unlink code works once, while the user still has its phone; after that no phone (5384), another phone (5037), or no user (5033).
    expect(notAmong(unlinks, [200, 5033, 5037, 5384])).toEqual([]);
    expect(count(unlinks, 200)).toBeLessThanOrEqual(1);
    // Serial orders only: no phone means the unlink came first; another phone means a link did.
    expect(count(unlinks, 5384) === 0 || count(unlinks, 200) === 1).toBe(true);
    expect(count(unlinks, 5037) === 0 || count(links, 200) > 0).toBe(true);
    expect(await h.userInfo(user.token)).toMatchObject({ code: 5033 });
    expect(claimsOf(user.uid, (await h.snapshot()).users)).toEqual([]);
    expect(await linkInvariantViolations(h)).toEqual([]);
    expect(await pendingMarkers(h)).toEqual([]);
  });
});

describe.each(LINK_MODES)('a request that cannot get its turn within its budget (%s)', (phoneLinks) => {
  let h: Harness;

  beforeAll(async () => {
    // A short budget: its turns end soon after its first attempt, which has time enough to finish.
    h = await createHarness({ phoneLinks, remainingTimeMs: RESPONSE_MARGIN_MS + 2_100 });
  });
  afterAll(() => h.close());

  let serial = 0;
  /**
   * A user linked to a phone, and codes for a link to another and for the
   * unlink; then its turn is held: in transactions mode every transaction
   * collides with another, in ordered-writes mode an admin link of the user
   * crashed just before its commit and its lease still runs.
   */
  async function userWhoseTurnIsHeld() {
    const [phone, next, crashed] = series('1395', 3 * ++serial).slice(-3);
    const user = await h.newUser();
    await h.link(user.token, { phone: phone!, code: await h.codeFor(phone) });
    const codes = { link: await h.codeFor(next), unlink: await h.codeFor(phone, '86', '4') };
    if (phoneLinks === 'transactions') {
      const collisions = injectDynamoFault(h.app.db, { call: 1, untilCall: Infinity, operation: 'TransactWriteItems', kind: 'transactionCollision', mode: 'before', attempts: Infinity });
      return { user, next: next!, codes, release: () => collisions.remove() };
    }
    // The admin link's calls: the user, the claim, the old claim releasing, the user marked, then the commit (call 5) fails.
    const crash = injectDynamoFault(h.app.db, { call: 5, kind: 'serverError', mode: 'before', attempts: Infinity });
    const crashedLink = await h.admin('PUT', user.uid, '/phone', jsonBody({ phone: crashed, internationalCode: '86' }));
    crash.remove();
    if (crashedLink.status !== 500) throw new Error(`the link meant to crash answered ${JSON.stringify(crashedLink)}`);
    return { user, next: next!, codes, release: () => undefined };
  }

  const requests: Record<string, (held: Awaited<ReturnType<typeof userWhoseTurnIsHeld>>) => Promise<Answer>> = {
    relationPhone: ({ user, next, codes }) => h.link(user.token, { phone: next, code: codes.link }),
    deletePhoneRelation: ({ user, codes }) => h.unlink(user.token, { code: codes.unlink }),
    'admin link': ({ user, next }) => h.admin('PUT', user.uid, '/phone', jsonBody({ phone: next, internationalCode: '86' })),
    'admin erase': ({ user }) => h.admin('DELETE', user.uid),
  };

  it.each(Object.keys(requests))('%s answers 5058, changes nothing and counts TurnsMissed', async (name) => {
    const held = await userWhoseTurnIsHeld();
    const before = await h.snapshot();
    emf.reset();

    const answer = await requests[name]!(held);
    held.release();

    expect(answer).toEqual(refusal(5058, 'SMS sending exceeds frequency limit'));
    expect(await h.snapshot()).toEqual(before);
    expect([emf.total('TurnsMissed'), emf.total('SendsRateLimited')]).toEqual([1, 0]);
  });
});
