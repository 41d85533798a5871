/**
 * The rules of test/support/invariants.ts, over the items of one users
 * table (the harness type does not fit three regions), plus what MRSC adds:
 * with no transaction, an operation leaves markers while it runs, and none
 * may be left once the reconciler has run.
 */

import { linkInvariantViolationsIn, pendingMarkersIn } from '../support/invariants';

export { pendingMarkersIn as pendingMarkers, phonesOnTwoUsers } from '../support/invariants';

type Item = Record<string, unknown>;

/** The single-region invariants, and no pending marker left. */
export const linkInvariantViolations = (items: readonly Item[]): string[] => [
  ...linkInvariantViolationsIn(items),
  ...pendingMarkersIn(items).map((marker) => `pending marker left: ${JSON.stringify(marker)}`),
];
