import { NoTurnInTime } from './domain/errors';
import { LAST_CALL_MS, type Deadline } from './request-budget';

/** The first retry's pause is drawn below this; each next one's below twice the last, up to PAUSE_CAP_MS. */
const FIRST_PAUSE_MS = 10;
/**
 * Capped, so that a racer which already lost several times retries about
 * as often as a newcomer, and is not left behind for the rest of its budget.
 */
const PAUSE_CAP_MS = 160;

/**
 * Before the next try of something that lost a race (a transaction that
 * collided, a user changed meanwhile): a random pause (full jitter),
 * growing with each try, so that racers spread out instead of colliding
 * again. Resolves false, without waiting, when a try that may take up to
 * `room` ms could no longer start and end before the deadline; the pause
 * is shortened when only a shorter one still leaves that room.
 */
export async function backOff(deadline: Deadline, attempt: number, room: number): Promise<boolean> {
  const timeLeft = deadline.msLeftToStart(room);
  if (timeLeft <= 0) return false;
  const pause = Math.random() * Math.min(PAUSE_CAP_MS, FIRST_PAUSE_MS * 2 ** (attempt - 1));
  await new Promise((resolve) => setTimeout(resolve, Math.min(pause, timeLeft)));
  return true;
}

/**
 * A request's turns at a change of its user that the same user's
 * concurrent requests (links, unlinks, erasures) may be making too: each
 * attempt reads the user and writes over it as read, and one that lost the
 * race waits for the next turn. The next attempt starts only if it can
 * still end before the deadline, judged by this request's last attempt:
 * twice as long, and never less than one call at its slowest. (Its first
 * attempt, made as every racer arrived, is its slowest as a rule: judged by
 * it, the end of a burst would give up turns that still had time.)
 */
export class Turns {
  private lost = 0;
  private lastAttemptMs = 0;
  /** As `msLeft()` when the current attempt started: the deadline's clock, nothing else. */
  private attemptStartedAt: number;

  constructor(private readonly deadline: Deadline) {
    this.attemptStartedAt = deadline.msLeft();
  }

  /** After an attempt lost the race: a pause, then the next attempt; 5058 (NoTurnInTime) when there is no room left for one. */
  async next(): Promise<void> {
    this.lastAttemptMs = this.attemptStartedAt - this.deadline.msLeft();
    const room = Math.max(LAST_CALL_MS, 2 * this.lastAttemptMs);
    if (!(await backOff(this.deadline, ++this.lost, room))) throw new NoTurnInTime();
    this.attemptStartedAt = this.deadline.msLeft();
  }
}
