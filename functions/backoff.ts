/**
 * A write that lost a race (a collided transaction, a user record changed
 * meanwhile) is tried again a bounded number of times, after a short random
 * pause so that the racers spread out instead of colliding again.
 */
export const MAX_CONFLICT_ATTEMPTS = 8;

export const backOff = (attempt: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * attempt));
