import { Duration } from 'aws-cdk-lib';
import { Metric } from 'aws-cdk-lib/aws-cloudwatch';
// Type only: the alarms watch exactly the metric names the functions emit, checked by the compiler.
import type { MetricName } from '../functions/observability';

/**
 * The names the functions publish their structured logs and EMF metrics
 * under (functions/observability.ts reads them from POWERTOOLS_SERVICE_NAME
 * and POWERTOOLS_METRICS_NAMESPACE, which ApiFunction sets).
 */
export const SERVICE_NAME = 'phone-link';
export const METRICS_NAMESPACE = 'PhoneLink';

/** Powertools Metrics adds the `service` dimension to every metric it emits. */
export const appMetric = (metricName: MetricName, period: Duration = Duration.minutes(5)): Metric =>
  new Metric({
    namespace: METRICS_NAMESPACE,
    metricName,
    dimensionsMap: { service: SERVICE_NAME },
    statistic: 'Sum',
    period,
  });
