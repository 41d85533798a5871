import { OPERATION_LEASE_MS } from '../../functions/adapters/dynamodb/pending-operations';
import { ResultCode } from '../../functions/domain/result-codes';
import { REQUEST_BUDGET_MS } from '../../functions/request-budget';
import { phonesOnTwoUsers } from './invariants';
import { createMrscWorld, describeOutcome, e164, newPhone, newUid, type MrscWorld } from './world';

// Regions whose clocks disagree. An operation goes on while its request has
// time (REQUEST_BUDGET_MS, on its own region's clock); another region rolls
// it back once its lease (OPERATION_LEASE_MS) looks over on that region's
// clock. Uniqueness holds while no region can find an operation expired
// that still goes on: while a region's clock runs ahead of another's by less
// than the lease minus the budget (docs/MULTI-REGION.md). One test on each
// side of that bound, the worst case for each: the operation stops after
// claiming the phone for its whole budget.

const BOUND_MS = OPERATION_LEASE_MS - REQUEST_BUDGET_MS;

let world: MrscWorld;

beforeAll(async () => {
  world = await createMrscWorld();
});

afterAll(() => world.destroy());

/**
 * A user in `east` claims the phone, then its function stops for the whole
 * budget; meanwhile a user in `west`, whose clock runs `skewMs` ahead,
 * links the same phone; then the first goes on.
 */
async function raceAcrossSkew(skewMs: number) {
  const [east, west] = [world.regions[0]!, world.regions[2]!];
  const [first, second, phone] = [newUid(), newUid(), newPhone()];
  await Promise.all([east.register(first), west.register(second)]);
  const [firstCode, secondCode] = [await east.sendCode(phone, 'link'), await west.sendCode(phone, 'link')];
  west.clock.skewMs = skewMs;
  try {
    // Its writes to the global table: the claim, then the user's mark.
    const freeze = east.sim.freeze({ at: 2, when: 'before' });
    const firstLink = east.link(first, phone, firstCode);
    await freeze.reached;
    world.clock.advance(REQUEST_BUDGET_MS);
    const secondLink = await west.link(second, phone, secondCode);
    freeze.thaw();
    const firstOutcome = await firstLink;
    const holders = phonesOnTwoUsers(await world.items()).get(e164(phone)) ?? [];
    return { first: describeOutcome(firstOutcome), second: describeOutcome(secondLink), onTwoUsers: holders.length > 0 };
  } finally {
    west.clock.skewMs = 0;
  }
}

it(`keeps the phone on one user while the clocks disagree by less than the lease minus the budget (${BOUND_MS} ms)`, async () => {
  expect(await raceAcrossSkew(BOUND_MS - 1_000)).toEqual({ first: 'ok', second: String(ResultCode.PhoneAlreadyRegistered), onTwoUsers: false });
});

it('puts the phone on two users once they disagree by more: the bound is the one that holds', async () => {
  expect(await raceAcrossSkew(BOUND_MS + 1_000)).toEqual({ first: 'ok', second: 'ok', onTwoUsers: true });
});
