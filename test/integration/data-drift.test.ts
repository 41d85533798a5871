import { DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { LogCapture } from '../support/log-capture';
import { createHarness, jsonBody, type Harness } from '../support/harness';
import { LINK_MODES } from '../support/link-modes';
import { linkInvariantViolations } from '../support/invariants';

const logs = (globalThis as { __logCapture?: LogCapture }).__logCapture!;

/** The drift lines logged since `from`: the drift, the user of the pair, the claim's phone (masked). */
const driftReportsSince = (from: number): { drift: unknown; uid: unknown; phone: unknown }[] =>
  logs.lines
    .slice(from)
    .map((line) => JSON.parse(line) as { message?: string; drift?: string; uid?: string; phone?: string })
    .filter((entry) => entry.message === 'Data drift repaired')
    .map(({ drift, uid, phone }) => ({ drift, uid, phone }));

/** The drift lines logged since `from`, by their drift name. */
const driftsSince = (from: number): string[] => driftReportsSince(from).map((report) => String(report.drift));

/**
 * Drift between a user and its phone's claim (a restore, a hand edit, a bug
 * of old) gets a defined outcome: linking, unlinking and erasure still work
 * and repair the pair as they write (in their own transaction, or step by
 * step), a warning and a metric name the drift, and nothing loops into a 500.
 */
// Both ways of writing a link: drift is repaired by one transaction, or by ordered writes (multi-Region tables).
describe.each(LINK_MODES)('data drift between users and claims (%s)', (phoneLinks) => {
  let h: Harness;

  beforeAll(async () => {
    h = await createHarness({ phoneLinks });
  });
  afterAll(() => h.close());
  beforeEach(() => h.clock.advance(3600_000));

  const claimKey = (national: string) => ({ pk: `PHONE#+86${national}` });
  const deleteClaim = (national: string) => h.db.send(new DeleteCommand({ TableName: h.tables.usersTableName, Key: claimKey(national) }));
  const putClaim = (national: string, uid: string) =>
    h.db.send(new PutCommand({ TableName: h.tables.usersTableName, Item: { ...claimKey(national), uid, linkedAt: new Date(h.clock.now()).toISOString() } }));
  const claimOf = async (national: string) => (await h.snapshot()).users.find((item) => item.pk === `PHONE#+86${national}`)?.uid;

  /** A user with a phone linked the normal way. */
  const linkedUser = async (national: string) => {
    const user = await h.newUser();
    expect((await h.link(user.token, { phone: national, code: await h.codeFor(national) })).code).toBe(200);
    return user;
  };

  describe("the user's claim is missing", () => {
    it('a link to another phone succeeds and leaves the pair whole', async () => {
      const user = await linkedUser('13600136001');
      await deleteClaim('13600136001');
      const from = logs.lines.length;
      expect(await h.link(user.token, { phone: '13600136002', code: await h.codeFor('13600136002') })).toMatchObject({ status: 200, code: 200 });
      expect(driftReportsSince(from)).toEqual([{ drift: 'claim-missing', uid: user.uid, phone: '+86136****6001' }]);
      expect(await claimOf('13600136002')).toBe(user.uid);
      expect(await linkInvariantViolations(h)).toEqual([]);
    });

    it('an unlink succeeds', async () => {
      const user = await linkedUser('13600136003');
      await deleteClaim('13600136003');
      const from = logs.lines.length;
      expect(await h.unlink(user.token, { code: await h.codeFor('13600136003', '86', '4') })).toMatchObject({ status: 200, code: 200 });
      expect(driftsSince(from)).toEqual(['claim-missing']);
      expect((await h.userInfo(user.token)).data).toMatchObject({ phone: null });
      expect(await linkInvariantViolations(h)).toEqual([]);
    });

    it('an erasure succeeds', async () => {
      const user = await linkedUser('13600136004');
      await deleteClaim('13600136004');
      expect(await h.admin('DELETE', user.uid)).toMatchObject({ status: 200, code: 200 });
      expect(await linkInvariantViolations(h)).toEqual([]);
    });

    it('an admin link to another phone succeeds', async () => {
      const user = await linkedUser('13600136005');
      await deleteClaim('13600136005');
      expect(await h.admin('PUT', user.uid, '/phone', jsonBody({ phone: '13600136006', internationalCode: '86' }))).toMatchObject({ code: 200 });
      expect(await linkInvariantViolations(h)).toEqual([]);
    });
  });

  describe("the user's claim belongs to another user who holds the phone", () => {
    const twoHolders = async (national: string) => {
      const holder = await linkedUser(national);
      const stale = await h.newUser();
      // The stale user's record says it has the phone; the claim says the holder does.
      await putClaim(national, stale.uid);
      h.clock.advance(61_000);
      expect((await h.link(stale.token, { phone: national, code: await h.codeFor(national) })).code).toBe(200);
      await putClaim(national, holder.uid);
      return { holder, stale };
    };

    it("a link of the stale user to another phone succeeds, and the holder's claim stays", async () => {
      const { holder, stale } = await twoHolders('13600136007');
      const from = logs.lines.length;
      expect(await h.link(stale.token, { phone: '13600136008', code: await h.codeFor('13600136008') })).toMatchObject({ code: 200 });
      expect(driftsSince(from)).toEqual(['claim-of-another-user']);
      expect(await claimOf('13600136007')).toBe(holder.uid);
      expect((await h.userInfo(holder.token)).data).toMatchObject({ phone: '13600136007' });
      expect(await linkInvariantViolations(h)).toEqual([]);
    });

    it("an unlink of the stale user succeeds, and the holder's claim stays", async () => {
      const { holder, stale } = await twoHolders('13600136009');
      h.clock.advance(61_000);
      expect(await h.unlink(stale.token, { code: await h.codeFor('13600136009', '86', '4') })).toMatchObject({ code: 200 });
      expect(await claimOf('13600136009')).toBe(holder.uid);
      expect(await linkInvariantViolations(h)).toEqual([]);
    });

    it("an erasure of the stale user succeeds, and the holder's claim stays", async () => {
      const { holder, stale } = await twoHolders('13600136010');
      expect(await h.admin('DELETE', stale.uid)).toMatchObject({ code: 200 });
      expect(await claimOf('13600136010')).toBe(holder.uid);
      expect(await linkInvariantViolations(h)).toEqual([]);
    });
  });

  describe('a claim whose user does not hold the phone', () => {
    it.each([
      ['a user with another phone', '13600136020', async () => (await linkedUser('13600136021')).uid],
      ['a user with no phone', '13600136022', async () => (await h.newUser()).uid],
      ['no user at all', '13600136023', async () => `ghost-${Date.now()}`],
      ['an erased user', '13600136024', async () => (await h.erasedUser()).uid],
    ])('is taken over by a link when its user is %s', async (_case, national, ownerOf) => {
      const staleOwner = await ownerOf();
      await putClaim(national, staleOwner);
      const newcomer = await h.newUser();
      const from = logs.lines.length;
      expect(await h.link(newcomer.token, { phone: national, code: await h.codeFor(national) })).toMatchObject({ code: 200 });
      // The pair that drifted is the claim and its owner: the owner is named, not the newcomer.
      expect(driftReportsSince(from)).toEqual([{ drift: 'claim-without-its-user', uid: staleOwner, phone: `+86136****${national.slice(-4)}` }]);
      expect(await claimOf(national)).toBe(newcomer.uid);
      expect(await linkInvariantViolations(h)).toEqual([]);
    });

    it('is taken over by an admin link too', async () => {
      await putClaim('13600136030', `ghost-${Date.now()}`);
      expect(await h.admin('PUT', `newcomer-${Date.now()}`, '/phone', jsonBody({ phone: '13600136030', internationalCode: '86' }))).toMatchObject({ code: 200 });
      expect(await linkInvariantViolations(h)).toEqual([]);
    });

    it('a claim whose user does hold the phone is no drift: 5002, nothing taken over', async () => {
      const owner = await linkedUser('13600136031');
      h.clock.advance(61_000);
      const from = logs.lines.length;
      const newcomer = await h.newUser();
      expect(await h.link(newcomer.token, { phone: '13600136031', code: await h.codeFor('13600136031') })).toMatchObject({ code: 5002 });
      expect(driftsSince(from)).toEqual([]);
      expect(await claimOf('13600136031')).toBe(owner.uid);
    });
  });

  it('a user that moved meanwhile is a race, not drift: the link answers conflict (re-read) and reports nothing', async () => {
    const user = await linkedUser('13600136040');
    const asRead = (await h.app.users.find(user.uid))!;
    // Meanwhile the user moves to another phone: its old claim goes with it.
    h.clock.advance(61_000);
    expect((await h.link(user.token, { phone: '13600136041', code: await h.codeFor('13600136041') })).code).toBe(200);
    const from = logs.lines.length;
    const outcome = await h.app.links.linkPhone({
      uid: user.uid,
      isNewUser: false,
      previousPhone: asRead.phone,
      phone: { e164: '+8613600136042', callingCode: '86', nationalNumber: '13600136042' },
      proof: undefined,
      now: h.clock.now(),
    });
    expect(outcome).toBe('conflict');
    expect(driftsSince(from)).toEqual([]);
    expect(await linkInvariantViolations(h)).toEqual([]);
  });
});
