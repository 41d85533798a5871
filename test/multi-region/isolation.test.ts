import { ResultCode } from '../../functions/domain/result-codes';
import { linkInvariantViolations } from './invariants';
import { createMrscWorld, e164, newPhone, newUid, type MrscWorld, type RegionApp } from './world';
import type { SimulatedRegion } from './simulation';

// One region cut off from the others: they go on linking, and the isolated
// one answers every request with a 500, never a wrong answer (a 200, a
// 5002, a 5037), and changes nothing; healed, it works again.

let world: MrscWorld;
let cut: RegionApp & { readonly sim: SimulatedRegion };

beforeAll(async () => {
  world = await createMrscWorld();
  cut = world.regions[2]!;
});

afterAll(() => world.destroy());

it('keeps the other regions linking while the isolated one answers 500 and writes nothing', async () => {
  const [east, central] = [world.regions[0]!, world.regions[1]!];
  // Codes sent before the partition, in the region that is about to be cut off.
  const contested = newPhone();
  const cutUser = newUid();
  await cut.register(cutUser);
  const cutCode = await cut.sendCode(contested, 'link');

  cut.sim.isolate();
  const writesBefore = cut.sim.counters.mrscWrites;
  const answers = await Promise.all([
    cut.linkOverHttp(cutUser, contested, cutCode),
    cut.eraseOverHttp(cutUser),
    ...[east, central].map(async (region) => {
      const [uid, phone] = [newUid(), newPhone()];
      const code = await region.sendCode(phone, 'link');
      return region.linkOverHttp(uid, phone, code);
    }),
  ]);
  // The connected regions link; the contested phone is theirs for the taking.
  const taker = newUid();
  const takerAnswer = await east.linkOverHttp(taker, contested, await east.sendCode(contested, 'link'));

  expect(answers.slice(0, 2)).toEqual([
    { status: 500, code: ResultCode.InternalError },
    { status: 500, code: ResultCode.InternalError },
  ]);
  expect(answers.slice(2)).toEqual([
    { status: 200, code: ResultCode.Success },
    { status: 200, code: ResultCode.Success },
  ]);
  expect(takerAnswer).toEqual({ status: 200, code: ResultCode.Success });
  expect(cut.sim.counters.mrscWrites).toBe(writesBefore);
  expect(cut.sim.counters.partitioned).toBeGreaterThan(0);
  // The cut-off user is as it was: registered, no phone, not erased.
  expect(await east.users.find(cutUser)).toEqual({ uid: cutUser });

  cut.sim.heal();
  const phone = newPhone();
  expect(await cut.linkOverHttp(cutUser, phone, await cut.sendCode(phone, 'link'))).toEqual({ status: 200, code: ResultCode.Success });
  expect((await east.users.find(cutUser))?.phone?.e164).toBe(e164(phone));
  expect(linkInvariantViolations(await world.items())).toEqual([]);
});
