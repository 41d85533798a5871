import { keys } from '../../functions/adapters/dynamodb/keys';
import { OPERATION_LEASE_MS } from '../../functions/adapters/dynamodb/pending-operations';
import { ResultCode } from '../../functions/domain/result-codes';
import { linkInvariantViolations, phonesOnTwoUsers } from './invariants';
import type { CallShape } from './simulation';
import { afterTheLease, createMrscWorld, describeOutcome, e164, newPhone, newUid, type MrscWorld, type Outcome } from './world';

// An operation frozen at one of its calls (as Lambda freezes a function
// whose request ran out of time) while the lease runs out, the reconciler
// and other regions' requests go on; then thawed. Whatever it does once
// thawed, no phone ends on two users, no claim on an erased user, and one
// reconciler pass leaves every invariant whole.

let world: MrscWorld;
let east: MrscWorld['regions'][number];
let central: MrscWorld['regions'][number];
let west: MrscWorld['regions'][number];

beforeAll(async () => {
  world = await createMrscWorld();
  [east, central, west] = [world.regions[0]!, world.regions[1]!, world.regions[2]!];
});

afterAll(() => world.destroy());

const ok: Outcome = { kind: 'ok' };

const phoneOf = async (uid: string): Promise<string | undefined> => {
  const user = await central.users.find(uid);
  return user?.erasedAt ? 'erased' : user?.phone?.e164;
};

/** The `n`-th call (counting from 1) of one operation to one item of the users table. */
const nthCall = (n: number, operation: string, pk: string): ((call: CallShape) => boolean) => {
  let seen = 0;
  return (call) => call.operation === operation && call.items.includes(`${world.usersTableName}|${pk}`) && ++seen === n;
};

/** The invariants over the users and the claims of one test, so that a test that fails leaves the next ones their own verdict. */
async function violations(uids: readonly string[], phones: readonly string[]): Promise<string[]> {
  const own = new Set([...uids.map(keys.user), ...phones.map((phone) => keys.phoneClaim(e164(phone)))]);
  return linkInvariantViolations((await world.items()).filter((item) => own.has(String(item.pk))));
}

/** After a reconciler pass once every lease is over: no phone on two users, no marker, users and claims agreeing. */
async function expectWhole(uids: readonly string[], phones: readonly string[]): Promise<void> {
  await world.reconcile(afterTheLease(world.clock));
  expect(await violations(uids, phones)).toEqual([]);
}

/** `ok` for the user who erased or linked, as `describeOutcome` says it; a 500 as `failed`. */
const kindOf = (outcome: Outcome): string => (outcome.kind === 'failed' ? 'failed' : describeOutcome(outcome));

describe('an erasure frozen and thawed', () => {
  it('frozen before its tombstone and thawed once it was rolled back: never erases a user whose claim stays', async () => {
    const [uid, phone] = [newUid(), newPhone()];
    expect(await east.link(uid, phone, await east.sendCode(phone, 'link'))).toEqual(ok);
    const freeze = west.sim.freeze({ at: nthCall(1, 'PutItem', keys.user(uid)), when: 'before' });
    const erasing = west.erase(uid);
    await freeze.reached;

    world.clock.advance(OPERATION_LEASE_MS + 1);
    await world.reconcile(world.clock.now());
    // Rolled back: the owner still held the phone, and holds it again.
    expect(await phoneOf(uid)).toBe(e164(phone));
    freeze.thaw();
    const erased = await erasing;

    // Erased afresh by the request once its stale tombstone was refused, with the phone free; or, if the request gave up, not erased at all.
    const held = await phoneOf(uid);
    expect([
      ['ok', 'erased'],
      ['failed', e164(phone)],
    ]).toContainEqual([kindOf(erased), held]);
    expect(await violations([uid], [phone])).toEqual([]);
    const taker = newUid();
    const taken = await central.link(taker, phone, await central.sendCode(phone, 'link'));
    expect(describeOutcome(taken)).toBe(held === 'erased' ? 'ok' : String(ResultCode.PhoneAlreadyRegistered));
    await expectWhole([uid, taker], [phone]);
  });

  it("whose tombstone's answer is lost while the uid is registered again from another region: the erased user keeps no claim", async () => {
    const [uid, phone] = [newUid(), newPhone()];
    expect(await east.link(uid, phone, await east.sendCode(phone, 'link'))).toEqual(ok);
    const freeze = west.sim.freeze({ at: nthCall(1, 'PutItem', keys.user(uid)), when: 'after', loseAnswer: true });
    const erasing = west.erase(uid);
    await freeze.reached;

    // The tombstone landed; before the SDK sends it again, an admin registers the uid afresh.
    await central.register(uid);
    freeze.thaw();
    expect(await erasing).toEqual(ok);

    expect(await phoneOf(uid)).toBe('erased');
    expect(await violations([uid], [phone])).toEqual([]);
    // The number can be linked by someone else at once.
    const taker = newUid();
    expect(await central.link(taker, phone, await central.sendCode(phone, 'link'))).toEqual(ok);
    await expectWhole([uid, taker], [phone]);
  });

  it('whose tombstone lands while a settler that read its user still marked is about to roll it back: finished, never rolled back', async () => {
    const [uid, phone] = [newUid(), newPhone()];
    expect(await east.link(uid, phone, await east.sendCode(phone, 'link'))).toEqual(ok);
    const beforeTombstone = west.sim.freeze({ at: nthCall(1, 'PutItem', keys.user(uid)), when: 'before' });
    const erasing = west.erase(uid);
    await beforeTombstone.reached;

    // Past the lease, the reconciler reads the user, still marked and not erased, and stops there.
    world.clock.advance(OPERATION_LEASE_MS + 1);
    const settlerRead = world.reconcilerRegion.freeze({ at: nthCall(1, 'GetItem', keys.user(uid)), when: 'after' });
    const reconciling = world.reconcile(world.clock.now());
    await settlerRead.reached;
    // The erasure goes on: its tombstone lands, still marked; its function stops again before it hears so.
    const afterTombstone = west.sim.freeze({ at: nthCall(1, 'PutItem', keys.user(uid)), when: 'after' });
    beforeTombstone.thaw();
    await afterTombstone.reached;
    settlerRead.thaw();
    expect(await reconciling).toMatchObject({ rolledBack: 0, failed: 0 });
    afterTombstone.thaw();
    expect(await erasing).toEqual(ok);

    expect(await phoneOf(uid)).toBe('erased');
    expect(await violations([uid], [phone])).toEqual([]);
    await expectWhole([uid], [phone]);
  });
});

describe('a link frozen and thawed', () => {
  it('frozen before its commit and thawed after it was rolled back: its commit is refused, the phone stays with whoever took it meanwhile', async () => {
    const [late, taker, phone] = [newUid(), newUid(), newPhone()];
    await east.register(late);
    const code = await east.sendCode(phone, 'link');
    // Its first write to the user marks it; the second is the commit.
    const freeze = east.sim.freeze({ at: nthCall(2, 'UpdateItem', keys.user(late)), when: 'before' });
    const linking = east.link(late, phone, code);
    await freeze.reached;

    world.clock.advance(OPERATION_LEASE_MS + 1);
    expect(await world.reconcile(world.clock.now())).toMatchObject({ rolledBack: 1, failed: 0 });
    expect(await west.link(taker, phone, await west.sendCode(phone, 'link'))).toEqual(ok);
    freeze.thaw();
    expect(kindOf(await linking)).toBe('failed');

    expect(phonesOnTwoUsers(await world.items())).toEqual(new Map());
    expect([await phoneOf(late), await phoneOf(taker)]).toEqual([undefined, e164(phone)]);
    await expectWhole([late, taker], [phone]);
  });

  it('frozen before it uses its code while a new code replaces it: 5037, its claim and mark undone at once, not after the lease', async () => {
    const [user, other, phone] = [newUid(), newUid(), newPhone()];
    await east.register(user);
    const code = await east.sendCode(phone, 'link');
    const usesCode = (call: CallShape) => call.operation === 'UpdateItem' && call.tables.includes(east.tables.codesTableName);
    const freeze = east.sim.freeze({ at: usesCode, when: 'before' });
    const linking = east.link(user, phone, code);
    await freeze.reached;

    // The user asked for a new code: the one the link was judged with is gone.
    await east.sendCode(phone, 'link');
    freeze.thaw();
    expect(await linking).toEqual({ kind: 'refused', code: ResultCode.SmsCodeFailed });

    expect(await violations([user], [phone])).toEqual([]);
    expect(await west.link(other, phone, await west.sendCode(phone, 'link'))).toEqual(ok);
    await expectWhole([user, other], [phone]);
  });
});

describe('an unlink frozen and thawed', () => {
  it('frozen before it uses its code while a new code replaces it: 5037, its marks undone at once, and the user still holds the phone', async () => {
    const [user, phone] = [newUid(), newPhone()];
    expect(await east.link(user, phone, await east.sendCode(phone, 'link'))).toEqual(ok);
    const code = await west.sendCode(phone, 'unlink');
    const usesCode = (call: CallShape) => call.operation === 'UpdateItem' && call.tables.includes(west.tables.codesTableName);
    const freeze = west.sim.freeze({ at: usesCode, when: 'before' });
    const unlinking = west.unlink(user, code);
    await freeze.reached;

    const newCode = await west.sendCode(phone, 'unlink');
    freeze.thaw();
    expect(await unlinking).toEqual({ kind: 'refused', code: ResultCode.SmsCodeFailed });

    expect(await phoneOf(user)).toBe(e164(phone));
    expect(await violations([user], [phone])).toEqual([]);
    // Nothing of it is left in the way: the user unlinks with the new code at once.
    expect(await west.unlink(user, newCode)).toEqual(ok);
    await expectWhole([user], [phone]);
  });
});
