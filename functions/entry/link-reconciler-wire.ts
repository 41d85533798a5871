import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { LinkReconciler, type ReconcileReport } from '../adapters/dynamodb/link-reconciler';
import { readUsersTableName } from '../config';
import { logger, metrics, type MetricName } from '../observability';
import { RESPONSE_MARGIN_MS } from '../request-budget';
import type { Wiring } from './wiring';

/** The scheduled reconciler: one pass over what a crash left pending and tombstones past their retention. */
export type ReconcilerHandler = (event?: unknown, context?: Pick<Context, 'getRemainingTimeInMillis'>) => Promise<ReconcileReport>;

/**
 * The link reconciler's function (ordered-writes mode only), in a module of
 * its own: its bundle holds no HTTP handler. Only the users table: settling
 * a link never touches a code.
 */
export function wireLinkReconciler(w: Wiring): ReconcilerHandler {
  const reconciler = new LinkReconciler(w.db, { usersTableName: readUsersTableName(w.env), codesTableName: undefined });
  const countAll = (name: MetricName, value: number) => metrics.addMetric(name, MetricUnit.Count, value);
  return async (_event, context) => {
    // Flushed by hand: Powertools' logMetrics is a middy middleware, and this handler has no middy chain.
    try {
      // Stops between two items before Lambda's timeout: a big backlog (a mass erasure's tombstones) takes several runs, not a crash.
      const stopAt = context ? Date.now() + context.getRemainingTimeInMillis() - RESPONSE_MARGIN_MS : undefined;
      const report = await reconciler.reconcile(Date.now(), stopAt);
      logger.info('Links reconciled', { ...report });
      countAll('LinksFinishedByReconciler', report.finished);
      countAll('LinksRolledBack', report.rolledBack);
      countAll('TombstonesRemoved', report.tombstonesRemoved);
      return report;
    } finally {
      if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
    }
  };
}
