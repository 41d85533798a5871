import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { LinkReconciler, type ReconcileReport } from '../adapters/dynamodb/link-reconciler';
import type { Context } from 'aws-lambda';
import { readUsersTableName } from '../config';
import { RESPONSE_MARGIN_MS } from '../request-budget';
import { logger, metrics, type MetricName } from '../observability';
import { documentClient } from './wiring';

// Cold start: configuration is read (and checked) now. Only the users table: settling a link never touches a code.
const reconciler = new LinkReconciler(documentClient(), { usersTableName: readUsersTableName(), codesTableName: undefined });

const countAll = (name: MetricName, value: number): void => {
  metrics.addMetric(name, MetricUnit.Count, value);
};

/**
 * Lambda entry point, on a schedule (ordered-writes mode only): one pass of
 * the reconciler over operations a crash left pending and tombstones past
 * their retention.
 */
export const handler = async (_event?: unknown, context?: Pick<Context, 'getRemainingTimeInMillis'>): Promise<ReconcileReport> => {
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
