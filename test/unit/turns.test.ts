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

  it('judges by the slowest attempt the request has made, not the last one: it keeps twice that', async () => {
    const wall = new Wall();
    const turns = new Turns(new Deadline(wall.now + 5_000, wall.read));
    // A slow attempt: 3.5 s left, and the next may take 3 s.
    wall.now += 1_500;
    await expect(turns.next()).resolves.toBeUndefined();
    wall.now += 200;
    await expect(turns.next()).resolves.toBeUndefined();
    // 2.9 s left: room for a quick attempt, but not for one as slow as the first.
    wall.now += 400;
    await expect(turns.next()).rejects.toBeInstanceOf(NoTurnInTime);
  });
});
