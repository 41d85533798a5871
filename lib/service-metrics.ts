import { Duration } from 'aws-cdk-lib';
import type { IHttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import { MathExpression, Metric } from 'aws-cdk-lib/aws-cloudwatch';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
// Pure data: the labels name the envelope codes the apps see.
import { ResultCode } from '../functions/domain/result-codes';
import type { MetricName } from '../functions/observability';
import type { ApiFunction } from './constructs/api-function';
import { appMetric } from './telemetry';

/** The period of every alarm and every dashboard graph. */
export const PERIOD = Duration.minutes(5);

/**
 * The envelope code each refusal counter counts: graph labels carry it, so
 * a number on the dashboard reads like the answer the apps got.
 */
const ENVELOPE_CODES: Partial<Record<MetricName, ResultCode>> = {
  PhoneTaken: ResultCode.PhoneAlreadyRegistered,
  WrongCodes: ResultCode.SmsCodeFailed,
  SendsRateLimited: ResultCode.SmsFrequencyLimited,
  CountryBreakerTrips: ResultCode.SmsFrequencyLimited,
  GlobalBreakerTrips: ResultCode.SmsFrequencyLimited,
  SmsFailures: ResultCode.SmsSendingFailed,
  SmsRefused: ResultCode.SmsSendingFailed,
  SmsOutcomeUnknown: ResultCode.SmsSendingFailed,
  TurnsMissed: ResultCode.SmsFrequencyLimited,
};

export interface ApiMetrics {
  readonly requests: Metric;
  readonly clientErrors: Metric;
  readonly serverErrors: Metric;
  readonly latencyP50: Metric;
  readonly latencyP99: Metric;
}

export interface FunctionMetrics {
  /** The function's construct id, e.g. `SendPhoneSmsCode`: alarm ids and labels start with it. */
  readonly name: string;
  readonly timeout: Duration;
  readonly errors: Metric;
  readonly throttles: Metric;
  readonly durationP50: Metric;
  readonly durationP99: Metric;
}

export interface TableMetrics {
  /** The table's construct id, e.g. `CodesTable`. */
  readonly name: string;
  /** Throttled reads and writes together. */
  readonly throttles: MathExpression;
  readonly consumedReads: Metric;
  readonly consumedWrites: Metric;
}

export interface ServiceMetricsProps {
  readonly api: IHttpApi;
  readonly functions: readonly ApiFunction[];
  readonly tables: readonly ITable[];
}

/**
 * Every metric the alarms and the dashboard look at, each defined once here,
 * so that a graph always shows exactly what its alarm watches.
 */
export class ServiceMetrics {
  readonly api: ApiMetrics;
  readonly functions: readonly FunctionMetrics[];
  readonly tables: readonly TableMetrics[];
  /**
   * The account's SMS spend this month, in USD, from SNS (no dimensions: one
   * figure per account and region). A running total, so the Maximum of a
   * period is its latest value.
   */
  readonly smsSpend = new Metric({ namespace: 'AWS/SNS', metricName: 'SMSMonthToDateSpentUSD', statistic: 'Maximum', period: PERIOD, label: 'SMS spend this month (USD)' });

  private readonly appMetrics = new Map<MetricName, Metric>();

  constructor(props: ServiceMetricsProps) {
    const { api } = props;
    this.api = {
      requests: api.metricCount({ period: PERIOD, statistic: 'Sum', label: 'Requests' }),
      clientErrors: api.metricClientError({ period: PERIOD, statistic: 'Sum', label: 'HTTP 4xx' }),
      serverErrors: api.metricServerError({ period: PERIOD, statistic: 'Sum', label: 'HTTP 5xx' }),
      latencyP50: api.metricLatency({ period: PERIOD, statistic: 'p50', label: 'API p50' }),
      latencyP99: api.metricLatency({ period: PERIOD, statistic: 'p99', label: 'API p99' }),
    };

    this.functions = props.functions.map((fn) => {
      const name = fn.node.id;
      return {
        name,
        timeout: fn.timeout,
        errors: fn.function.metricErrors({ period: PERIOD, statistic: 'Sum', label: `${name} errors` }),
        throttles: fn.function.metricThrottles({ period: PERIOD, statistic: 'Sum', label: `${name} throttles` }),
        durationP50: fn.function.metricDuration({ period: PERIOD, statistic: 'p50', label: `${name} p50` }),
        durationP99: fn.function.metricDuration({ period: PERIOD, statistic: 'p99', label: `${name} p99` }),
      };
    });

    this.tables = props.tables.map((table) => {
      const name = table.node.id;
      const id = name.charAt(0).toLowerCase() + name.slice(1);
      const sum = (metricName: string) => table.metric(metricName, { period: PERIOD, statistic: 'Sum' });
      return {
        name,
        // Throttle *events*, not ThrottledRequests: the events count every throttled read or write of an item on
        // the table, whatever the operation (a single call, an item of a TransactWriteItems, a key of a
        // BatchGetItem), while ThrottledRequests exists only per operation and counts a BatchGetItem only when
        // every one of its keys was throttled. On-demand tables throttle too (a hot key, the table's maximum, the
        // account's quota), and each cause is counted in these two. FILL: either may have no data in a period.
        throttles: new MathExpression({
          expression: `FILL(${id}Reads, 0) + FILL(${id}Writes, 0)`,
          // Ids unique to the table: one graph shows both tables' expressions.
          usingMetrics: { [`${id}Reads`]: sum('ReadThrottleEvents'), [`${id}Writes`]: sum('WriteThrottleEvents') },
          period: PERIOD,
          label: `${name} throttled reads + writes`,
        }),
        consumedReads: table.metricConsumedReadCapacityUnits({ period: PERIOD, statistic: 'Sum', label: `${name} read units` }),
        consumedWrites: table.metricConsumedWriteCapacityUnits({ period: PERIOD, statistic: 'Sum', label: `${name} write units` }),
      };
    });
  }

  /** A count the functions emit (5-minute sum), labelled with its envelope code where it counts refusals. */
  app(name: MetricName): Metric {
    let metric = this.appMetrics.get(name);
    if (metric === undefined) {
      const code = ENVELOPE_CODES[name];
      metric = appMetric(name, PERIOD).with({ label: code === undefined ? name : `${name} (${code})` });
      this.appMetrics.set(name, metric);
    }
    return metric;
  }
}
