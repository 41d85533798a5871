import { keys } from '../../functions/adapters/dynamodb/keys';
import { ResultCode } from '../../functions/domain/result-codes';
import { linkInvariantViolations, phonesOnTwoUsers } from './invariants';
import { afterTheLease, createMrscWorld, describeOutcome, e164, newPhone, newUid, type MrscWorld, type Outcome, type RegionApp } from './world';

// Races across the three regions of the MRSC simulation, each region
// running the real use cases over OrderedPhoneLinks. Every race starts at
// a barrier, each region's racers after a random delay in a slot of their
// own, the slots' order turning round by round: every order of the regions'
// starts occurs, and the report says which order the writes reached the
// table in. After every race: no phone on two users, no marker left behind
// by an operation that ended, and the same once the reconciler has run.

const ROUNDS = 4;
/** Six rounds: each order of three regions once. */
const MANY_USERS_ROUNDS = 6;
/** Each region's start is delayed by a random amount in the first half of its slot. */
const SLOT_MS = 100;

let world: MrscWorld;
let east: RegionApp;
let central: RegionApp;
let west: RegionApp;
const report: string[] = [];

beforeAll(async () => {
  world = await createMrscWorld();
  [east, central, west] = [world.regions[0]!, world.regions[1]!, world.regions[2]!];
});

afterAll(() => {
  const totals = world.simulation.totals();
  console.log(
    `multi-region races:\n  ${report.join('\n  ')}\n` +
      `  calls ${totals.calls}, MRSC writes ${totals.mrscWrites}, condition failures ${totals.mrscConditionFailures}, ` +
      `ReplicatedWriteConflictExceptions ${totals.replicatedWriteConflicts}`,
  );
  world.destroy();
});

/**
 * The users table, checked: no phone on two users now; when every request
 * ended with an answer, no marker left either; and after a reconciler pass,
 * users and claims agreeing.
 */
async function expectConsistent(outcomes: readonly Outcome[] = []): Promise<void> {
  const items = await world.items();
  expect(phonesOnTwoUsers(items)).toEqual(new Map());
  const allAnswered = outcomes.every((outcome) => outcome.kind !== 'failed');
  expect(allAnswered ? linkInvariantViolations(items) : []).toEqual([]);
  const reconciled = await world.reconcile(afterTheLease(world.clock));
  // An operation that ended on its own leaves nothing for the reconciler.
  const nothingToDo = { finished: 0, rolledBack: 0, tombstonesRemoved: 0, failed: 0, complete: true };
  expect(allAnswered ? reconciled : nothingToDo).toEqual(nothingToDo);
  expect(linkInvariantViolations(await world.items())).toEqual([]);
}

const phoneOf = async (uid: string): Promise<string | undefined> => {
  const user = await east.users.find(uid);
  return user?.erasedAt ? `erased` : user?.phone?.e164;
};

/** Outcomes by kind, for the report: `ok` or the refusal's code; a failure fails the test. */
function tally(outcomes: readonly Outcome[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const outcome of outcomes) counts[describeOutcome(outcome)] = (counts[describeOutcome(outcome)] ?? 0) + 1;
  return counts;
}

const orders = <T>(items: readonly T[]): T[][] =>
  items.length <= 1 ? [[...items]] : items.flatMap((first, index) => orders(items.filter((_, other) => other !== index)).map((rest) => [first, ...rest]));

/**
 * Runs the racers together from one barrier: each region's after a random
 * delay within its slot, the regions taking their slots in the round's
 * order (all orders in turn). Answers their outcomes, in the racers' order,
 * and the regions' order of start.
 */
async function fromBarrier<const Racers extends readonly { region: RegionApp; run: () => Promise<Outcome> }[]>(
  round: number,
  racers: Racers,
): Promise<{ outcomes: { [Index in keyof Racers]: Outcome }; firstRegion: string }> {
  const regions = [...new Set(racers.map(({ region }) => region.name))];
  const order = orders(regions)[round % orders(regions).length]!;
  const delays = new Map(order.map((name, slot) => [name, slot * SLOT_MS + (Math.random() * SLOT_MS) / 2]));
  const outcomes = await Promise.all(racers.map(({ region, run }) => new Promise((resolve) => setTimeout(resolve, delays.get(region.name))).then(run)));
  return { outcomes: outcomes as { [Index in keyof Racers]: Outcome }, firstRegion: order[0]! };
}

/** How often each value occurred. */
const counted = (values: readonly string[]): Record<string, number> => {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
};

/** The regions in a different order each round: who is near and who is far changes. */
const rotated = (round: number): [RegionApp, RegionApp, RegionApp] => {
  const regions = [east, central, west];
  return [0, 1, 2].map((i) => regions[(i + round) % 3]!) as [RegionApp, RegionApp, RegionApp];
};

const ok: Outcome = { kind: 'ok' };
const refused = (code: number): Outcome => ({ kind: 'refused', code });

describe('races across three regions on one MRSC users table', () => {
  it('many users in three regions linking one phone at once: one gets it, in the region whose claim reached the table first', async () => {
    const seen: Record<string, number>[] = [];
    const reached: string[] = [];
    for (let round = 1; round <= MANY_USERS_ROUNDS; round++) {
      const phone = newPhone();
      // Three users per region, each typing the code its region sent to the phone.
      const racers = await Promise.all(
        world.regions.flatMap((region) => [newUid(), newUid(), newUid()].map(async (uid) => ({ region, uid, registered: await region.register(uid) }))),
      );
      const codes = new Map(await Promise.all(world.regions.map(async (region) => [region.name, await region.sendCode(phone, 'link')] as const)));
      const claims = world.simulation.watch(world.usersTableName, keys.phoneClaim(e164(phone)));
      const { outcomes } = await fromBarrier(
        round,
        racers.map(({ region, uid }) => ({ region, run: () => region.link(uid, phone, codes.get(region.name)!) })),
      );
      seen.push(tally(outcomes));
      const arrivalOrder = [...new Set(claims)];
      reached.push(arrivalOrder.join('>'));

      // Safety: at most one winner, and only the winner holds the phone. Liveness, bounded: a loser may meet
      // ReplicatedWriteConflictException more often than the retries allow (a 500, counted in the report), nothing else.
      const failures = outcomes.filter((outcome) => outcome.kind === 'failed').map(describeOutcome);
      expect(failures.filter((failure) => !failure.includes('ReplicatedWriteConflictException'))).toEqual([]);
      const winners = racers.filter((_, index) => outcomes[index]!.kind === 'ok').map(({ uid }) => uid);
      expect(winners.length).toBeLessThanOrEqual(1);
      expect(winners.length + failures.length).toBeGreaterThanOrEqual(1);
      const expectedRefusals = [ResultCode.PhoneAlreadyRegistered, ResultCode.SmsCodeFailed].map(String);
      expect(outcomes.map(describeOutcome).filter((outcome) => outcome !== 'ok' && !outcome.startsWith('failed') && !expectedRefusals.includes(outcome))).toEqual([]);
      await expectConsistent(outcomes);
      const holders = (await Promise.all(racers.map(async ({ uid }) => ((await phoneOf(uid)) === e164(phone) ? uid : undefined)))).filter(Boolean);
      expect(holders.length).toBeLessThanOrEqual(1);
      expect(holders).toEqual(expect.arrayContaining(winners));
      // The first claim to reach the table decides: MRSC evaluates each condition against the latest claim.
      expect(racers.filter(({ uid }) => holders.includes(uid)).map(({ region }) => region.name)).toEqual(arrivalOrder.slice(0, holders.length));
    }
    report.push(
      `9 users x ${MANY_USERS_ROUNDS} rounds on one phone: ${JSON.stringify(seen)}; order the regions' claims reached the table in ${JSON.stringify(counted(reached))}, ` +
        `won by ${JSON.stringify(counted(reached.map((order) => order.split('>')[0]!)))}`,
    );
  });

  it('a link and an unlink of one user from two regions', async () => {
    const seen: string[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const [home, linker, unlinker] = rotated(round);
      const [uid, first, second] = [newUid(), newPhone(), newPhone()];
      expect(await home.link(uid, first, await home.sendCode(first, 'link'))).toEqual(ok);
      const [linkCode, unlinkCode] = [await linker.sendCode(second, 'link'), await unlinker.sendCode(first, 'unlink')];
      const {
        outcomes: [link, unlink],
        firstRegion,
      } = await fromBarrier(round, [
        { region: linker, run: () => linker.link(uid, second, linkCode) },
        { region: unlinker, run: () => unlinker.unlink(uid, unlinkCode) },
      ]);
      seen.push(`${firstRegion === linker.name ? 'link' : 'unlink'} first: ${describeOutcome(link)}/${describeOutcome(unlink)}`);

      // The link always applies (from the phone or from none); the unlink applies only if it came first, else its code is for the wrong phone.
      expect(link).toEqual(ok);
      expect([ok, refused(ResultCode.SmsCodeFailed)]).toContainEqual(unlink);
      expect(await phoneOf(uid)).toBe(e164(second));
      await expectConsistent();
    }
    report.push(`link vs unlink (link/unlink): ${JSON.stringify(counted(seen))}`);
  });

  it('a link against the erasure of the same user, from two regions', async () => {
    const seen: string[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const [home, linker, eraser] = rotated(round);
      const [uid, first, second] = [newUid(), newPhone(), newPhone()];
      expect(await home.link(uid, first, await home.sendCode(first, 'link'))).toEqual(ok);
      const code = await linker.sendCode(second, 'link');
      const {
        outcomes: [link, erase],
        firstRegion,
      } = await fromBarrier(round, [
        { region: linker, run: () => linker.link(uid, second, code) },
        { region: eraser, run: () => eraser.erase(uid) },
      ]);
      seen.push(`${firstRegion === linker.name ? 'link' : 'erasure'} first: ${describeOutcome(link)}/${describeOutcome(erase)}`);

      // The erasure always ends erased; the link lands before it or is refused as for an erased user.
      expect(erase).toEqual(ok);
      expect([ok, refused(ResultCode.UserDoesNotExist)]).toContainEqual(link);
      expect(await phoneOf(uid)).toBe('erased');
      // Both phones are free again.
      for (const phone of [first, second]) {
        const taker = newUid();
        expect(await east.link(taker, phone, await east.sendCode(phone, 'link'))).toEqual(ok);
      }
      await expectConsistent();
    }
    report.push(`link vs erasure (link/erase): ${JSON.stringify(counted(seen))}`);
  });

  it('one user linking two phones from two regions: ends with one of them, the other free', async () => {
    const seen: string[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const [regionA, , regionB] = rotated(round);
      const [uid, a, b] = [newUid(), newPhone(), newPhone()];
      await regionA.register(uid);
      const [codeA, codeB] = [await regionA.sendCode(a, 'link'), await regionB.sendCode(b, 'link')];
      const {
        outcomes: [linkA, linkB],
        firstRegion,
      } = await fromBarrier(round, [
        { region: regionA, run: () => regionA.link(uid, a, codeA) },
        { region: regionB, run: () => regionB.link(uid, b, codeB) },
      ]);
      seen.push(`${firstRegion === regionA.name ? 'A' : 'B'} first: ${describeOutcome(linkA)}/${describeOutcome(linkB)}, holds ${(await phoneOf(uid)) === e164(a) ? 'A' : 'B'}`);

      expect([linkA, linkB]).toContainEqual(ok);
      expect([linkA, linkB].filter((outcome) => outcome.kind === 'failed').map(describeOutcome)).toEqual([]);
      const held = await phoneOf(uid);
      expect([e164(a), e164(b)]).toContain(held);
      const other = held === e164(a) ? b : a;
      // The phone it does not hold is free for anyone.
      expect(await central.link(newUid(), other, await central.sendCode(other, 'link'))).toEqual(ok);
      await expectConsistent();
    }
    report.push(`one user, two phones (A/B): ${JSON.stringify(counted(seen))}`);
  });

  it('an admin link against a user link of the same phone, from two regions', async () => {
    const seen: string[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const [admin, , user] = rotated(round);
      const [byAdmin, byUser, phone] = [newUid(), newUid(), newPhone()];
      await user.register(byUser);
      const code = await user.sendCode(phone, 'link');
      const {
        outcomes: [adminLink, userLink],
        firstRegion,
      } = await fromBarrier(round, [
        { region: admin, run: () => admin.adminLink(byAdmin, phone) },
        { region: user, run: () => user.link(byUser, phone, code) },
      ]);
      seen.push(`${firstRegion === admin.name ? 'admin' : 'user'} first: ${describeOutcome(adminLink)}/${describeOutcome(userLink)}`);

      const outcomes = [adminLink, userLink];
      expect(outcomes.filter((outcome) => outcome.kind === 'ok')).toHaveLength(1);
      expect(outcomes).toContainEqual(refused(ResultCode.PhoneAlreadyRegistered));
      const winner = adminLink.kind === 'ok' ? byAdmin : byUser;
      expect(await phoneOf(winner)).toBe(e164(phone));
      await expectConsistent();
    }
    report.push(`admin link vs user link (admin/user): ${JSON.stringify(counted(seen))}`);
  });
});
