import { OPERATION_LEASE_MS } from '../../functions/adapters/dynamodb/pending-operations';
import { ResultCode } from '../../functions/domain/result-codes';
import { linkInvariantViolations, pendingMarkers, phonesOnTwoUsers } from './invariants';
import { SimulatedCrash } from './simulation';
import { afterTheLease, createMrscWorld, describeOutcome, e164, newPhone, newUid, type MrscWorld, type Outcome, type RegionApp } from './world';
import type { SimulatedRegion } from './simulation';

// A crash injected after every write an operation makes to the MRSC users
// table: the write lands, the process dies, nothing of it runs again. While
// it lies there, no phone has two owners and another region's racer for the
// same phone is refused, never given a duplicate; after one reconciler pass
// every user and every claim agree, no marker is left, and the same user's
// next request works.

let world: MrscWorld;
/** The region whose process dies. */
let crashing: RegionApp & { readonly sim: SimulatedRegion };
/** Another region, for set-up and racers. */
let other: RegionApp;
const report: string[] = [];

beforeAll(async () => {
  world = await createMrscWorld();
  crashing = world.regions[0]!;
  other = world.regions[2]!;
});

afterAll(() => {
  console.log(`multi-region crash points:\n  ${report.join('\n  ')}`);
  world.destroy();
});

const ok: Outcome = { kind: 'ok' };

const phoneOf = async (uid: string): Promise<string | undefined> => {
  const user = await other.users.find(uid);
  return user?.erasedAt ? 'erased' : user?.phone?.e164;
};

/** An operation under test: its set-up (in another region), the request that crashes, and what the user does next. */
interface Scenario<State> {
  readonly name: string;
  prepare(): Promise<State>;
  run(state: State): Promise<Outcome>;
  /** The phone another region's user races for while the crashed operation lies there. */
  contested(state: State): string;
  /** What the user holds if the operation finished, and if it was rolled back. */
  outcomes(state: State): { finished: string | undefined; rolledBack: string | undefined };
  /** The same user's next request, after the reconciler ran: it must succeed. */
  next(state: State): Promise<Outcome>;
}

interface LinkState {
  readonly uid: string;
  readonly from?: string;
  readonly to: string;
  readonly code?: string;
}

/** The same user links a phone it never had, with a fresh code. */
const linkAnother = async (uid: string): Promise<Outcome> => {
  const phone = newPhone();
  return crashing.link(uid, phone, await crashing.sendCode(phone, 'link'));
};

const scenarios: Scenario<LinkState>[] = [
  {
    name: 'link (first phone)',
    prepare: async () => {
      const [uid, to] = [newUid(), newPhone()];
      await other.register(uid);
      return { uid, to, code: await crashing.sendCode(to, 'link') };
    },
    run: ({ uid, to, code }) => crashing.link(uid, to, code!),
    contested: ({ to }) => to,
    outcomes: ({ to }) => ({ finished: e164(to), rolledBack: undefined }),
    next: ({ uid }) => linkAnother(uid),
  },
  {
    name: 'link (moving from one phone to another)',
    prepare: async () => {
      const [uid, from, to] = [newUid(), newPhone(), newPhone()];
      expect(await other.link(uid, from, await other.sendCode(from, 'link'))).toEqual(ok);
      return { uid, from, to, code: await crashing.sendCode(to, 'link') };
    },
    run: ({ uid, to, code }) => crashing.link(uid, to, code!),
    contested: ({ to }) => to,
    outcomes: ({ from, to }) => ({ finished: e164(to), rolledBack: e164(from!) }),
    next: ({ uid }) => linkAnother(uid),
  },
  {
    name: 'unlink',
    prepare: async () => {
      const [uid, from] = [newUid(), newPhone()];
      expect(await other.link(uid, from, await other.sendCode(from, 'link'))).toEqual(ok);
      return { uid, from, to: from, code: await crashing.sendCode(from, 'unlink') };
    },
    run: ({ uid, code }) => crashing.unlink(uid, code!),
    contested: ({ from }) => from!,
    outcomes: ({ from }) => ({ finished: undefined, rolledBack: e164(from!) }),
    next: ({ uid }) => linkAnother(uid),
  },
  {
    name: 'erasure (admin)',
    prepare: async () => {
      const [uid, from] = [newUid(), newPhone()];
      expect(await other.link(uid, from, await other.sendCode(from, 'link'))).toEqual(ok);
      return { uid, from, to: from };
    },
    run: ({ uid }) => crashing.erase(uid),
    contested: ({ from }) => from!,
    outcomes: ({ from }) => ({ finished: 'erased', rolledBack: e164(from!) }),
    // Erasing again: idempotent, and it must leave the uid erased with its phone free.
    next: ({ uid }) => crashing.erase(uid),
  },
  {
    name: 'admin link (uid never seen)',
    prepare: async () => ({ uid: newUid(), to: newPhone() }),
    run: ({ uid, to }) => crashing.adminLink(uid, to),
    contested: ({ to }) => to,
    outcomes: ({ to }) => ({ finished: e164(to), rolledBack: undefined }),
    next: ({ uid }) => crashing.adminLink(uid, newPhone()),
  },
];

/** How many writes to the MRSC table the operation makes when nothing goes wrong. */
async function writesOf(scenario: Scenario<LinkState>): Promise<number> {
  const state = await scenario.prepare();
  const before = crashing.sim.counters.mrscWrites;
  expect(await scenario.run(state)).toEqual(ok);
  return crashing.sim.counters.mrscWrites - before;
}

describe.each(scenarios.map((scenario) => [scenario.name, scenario] as const))('a crash after each write of %s', (_name, scenario) => {
  it('leaves no phone with two owners, and one reconciler pass leaves users and claims agreeing', async () => {
    const writes = await writesOf(scenario);
    expect(writes).toBeGreaterThanOrEqual(2);
    const endings: string[] = [];
    const racers: string[] = [];
    for (let n = 1; n <= writes; n++) {
      const state = await scenario.prepare();
      crashing.sim.crashAfter(n);
      const crashed = await scenario.run(state);
      expect(crashed).toMatchObject({ kind: 'failed', error: expect.any(SimulatedCrash) });
      crashing.sim.restart();

      // As the crash left it: a marker or two, never a phone on two users.
      const leftBehind = await world.items();
      expect(phonesOnTwoUsers(leftBehind)).toEqual(new Map());
      const phone = scenario.contested(state);
      const racer = await other.link(newUid(), phone, await other.sendCode(phone, 'link'));
      // Refused while the crashed operation holds the phone; given it only once that operation let it go (a committed unlink or erasure).
      expect(['ok', String(ResultCode.PhoneAlreadyRegistered)]).toContain(describeOutcome(racer));
      racers.push(describeOutcome(racer));
      expect(phonesOnTwoUsers(await world.items())).toEqual(new Map());

      const reconciled = await world.reconcile(afterTheLease(world.clock));
      const items = await world.items();
      expect(linkInvariantViolations(items)).toEqual([]);
      const held = await phoneOf(state.uid);
      const { finished, rolledBack } = scenario.outcomes(state);
      expect([finished, rolledBack]).toContain(held);
      endings.push(
        `${n}: ${held === finished ? 'finished' : 'rolled back'} (${pendingMarkers(leftBehind).length} items marked, racer ${racers.at(-1)}, ` +
          `reconciler finished ${reconciled.finished} rolled back ${reconciled.rolledBack})`,
      );

      expect(await scenario.next(state)).toEqual(ok);
      expect(linkInvariantViolations(await world.items())).toEqual([]);
    }
    report.push(`${scenario.name}, ${writes} writes: ${endings.join('; ')}`);
  });
});

describe('a crashed operation without the reconciler', () => {
  it('is rolled back by the next request that meets it once its lease is over', async () => {
    const [uid, phone] = [newUid(), newPhone()];
    await other.register(uid);
    const code = await crashing.sendCode(phone, 'link');
    // Dies right after claiming the phone.
    crashing.sim.crashAfter(1);
    expect(await crashing.link(uid, phone, code)).toMatchObject({ kind: 'failed' });
    crashing.sim.restart();
    const racer = newUid();
    expect(await other.link(racer, phone, await other.sendCode(phone, 'link'))).toEqual({ kind: 'refused', code: ResultCode.PhoneAlreadyRegistered });

    world.clock.advance(OPERATION_LEASE_MS + 1);
    expect(await other.link(racer, phone, await other.sendCode(phone, 'link'))).toEqual(ok);
    expect(await phoneOf(racer)).toBe(e164(phone));
    expect(linkInvariantViolations(await world.items())).toEqual([]);
  });
});
