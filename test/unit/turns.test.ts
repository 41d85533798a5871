import { Turns } from '../../functions/backoff';
import { NoTurnInTime } from '../../functions/domain/errors';
import { Deadline, LAST_CALL_MS, REQUEST_BUDGET_MS, RESPONSE_MARGIN_MS } from '../../functions/request-budget';

/** A wall clock the test moves by hand: the only time a deadline knows. */
class Wall {
  now = Date.UTC(2026, 0, 1);
  read = (): number => this.now;
}

describe('the request deadline', () => {
  it('falls where middy cuts the handler off: the time Lambda says is left, less the margin, and never past the budget', () => {
    const wall = new Wall();
    expect(Deadline.fromRemainingTime(4_000, wall.read).answerBy).toBe(wall.now + 4_000 - RESPONSE_MARGIN_MS);
    expect(Deadline.fromRemainingTime(60_000, wall.read).answerBy).toBe(wall.now + REQUEST_BUDGET_MS);
    expect(Deadline.fullBudgetFromNow(wall.read).answerBy).toBe(wall.now + REQUEST_BUDGET_MS);
  });
});

describe('turns among the same user\'s requests', () => {
  it('gives a next attempt while one still fits before the deadline, with room for a call at its slowest', async () => {
    const wall = new Wall();
    const turns = new Turns(new Deadline(wall.now + LAST_CALL_MS + 500, wall.read));
    wall.now += 20;
    await expect(turns.next()).resolves.toBeUndefined();
  });

  it('refuses with NoTurnInTime, answered 5058, once no attempt fits any more', async () => {
    const wall = new Wall();
    const turns = new Turns(new Deadline(wall.now + LAST_CALL_MS + 500, wall.read));
    wall.now += 500;
    const refusal = await turns.next().catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(NoTurnInTime);
    expect(refusal).toMatchObject({ code: 5058 });
  });

  it('keeps room for twice its last attempt: with 2.6 s left, refused after an attempt of 1.4 s, granted after one of 1 s', async () => {
    const wall = new Wall();
    const afterSlow = new Turns(new Deadline(wall.now + 5_000, wall.read));
    wall.now += 1_000;
    await expect(afterSlow.next()).resolves.toBeUndefined();
    wall.now += 1_400;
    await expect(afterSlow.next()).rejects.toBeInstanceOf(NoTurnInTime);

    const afterQuick = new Turns(new Deadline(wall.now + 5_000, wall.read));
    wall.now += 1_400;
    await expect(afterQuick.next()).resolves.toBeUndefined();
    wall.now += 1_000;
    await expect(afterQuick.next()).resolves.toBeUndefined();
  });
});
