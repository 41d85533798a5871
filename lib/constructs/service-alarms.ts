import { Duration } from 'aws-cdk-lib';
import type { IHttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import { Alarm, ComparisonOperator, type IMetric, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { AlarmSettings } from '../stage-config';
import { appMetric } from '../telemetry';
import type { ApiFunction } from './api-function';

export interface ServiceAlarmsProps {
  readonly api: IHttpApi;
  readonly functions: readonly ApiFunction[];
  readonly thresholds: Pick<AlarmSettings, 'codesSentPer5Minutes' | 'smsFailuresPer5Minutes'>;
  /** Notified when an alarm fires and when it clears; none = visible in the console only. */
  readonly topics: readonly ITopic[];
  /** Prefix of the alarm names, e.g. the stack name, so notifications say which deployment. */
  readonly namePrefix: string;
}

const PERIOD = Duration.minutes(5);
/** Any key-set failure in a 5-minute sum. */
const KEY_SET_FAILURES_THRESHOLD = 1;

/**
 * What someone on call needs to hear about: the API failing (5xx), a
 * function crashing or throttled, the login service's key set out of reach,
 * the SMS provider refusing sends, and a surge of codes sent (SMS pumping:
 * someone making us text premium numbers).
 * Each alarm looks at one 5-minute sum; no data (no traffic) is not a breach.
 */
export class ServiceAlarms extends Construct {
  readonly alarms: Alarm[] = [];

  constructor(scope: Construct, id: string, private readonly props: ServiceAlarmsProps) {
    super(scope, id);

    // Any 500 is a fault (business refusals answer 200), but one transient blip should not page anyone.
    this.add('Api5xx', props.api.metricServerError({ period: PERIOD, statistic: 'Sum' }), 5, 'The API answered HTTP 5xx: see the functions\' error logs.');

    for (const fn of props.functions) {
      const name = fn.node.id;
      // Errors are crashes and timeouts that escaped the handler's own 500 envelope: each one is a bug or an outage.
      this.add(`${name}Errors`, fn.function.metricErrors({ period: PERIOD, statistic: 'Sum' }), 1, `${name} failed (unhandled error or timeout).`);
      // Throttles mean the account's concurrency ran out: requests were refused before reaching the code.
      this.add(`${name}Throttles`, fn.function.metricThrottles({ period: PERIOD, statistic: 'Sum' }), 1, `${name} was throttled: Lambda concurrency exhausted.`);
    }

    // Counted only when the key set could not be had, never for a bad token, so no client can
    // trip it; each one is a signed-in request answered 500, which Api5xx's threshold would let pass.
    this.add(
      'KeySetFailures',
      appMetric('KeySetFailures', PERIOD),
      KEY_SET_FAILURES_THRESHOLD,
      'The login service key set (JWKS_URL) could not be fetched: signed-in requests answer HTTP 500. See the KeySetUnavailable errors in the logs.',
    );
    this.add(
      'SmsFailures',
      appMetric('SmsFailures', PERIOD),
      props.thresholds.smsFailuresPer5Minutes,
      'The SMS provider refused sends (5059): check SNS spend limit, sandbox status and delivery logs.',
    );
    this.add(
      'SendRateSpike',
      appMetric('CodesSent', PERIOD),
      props.thresholds.codesSentPer5Minutes,
      `${props.thresholds.codesSentPer5Minutes} or more codes sent in 5 minutes: possible SMS pumping; check destinations and source IPs in the logs.`,
    );
  }

  private add(id: string, metric: IMetric, threshold: number, description: string): void {
    const alarm = new Alarm(this, id, {
      alarmName: `${this.props.namePrefix}-${id}`,
      alarmDescription: description,
      metric,
      threshold,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    for (const topic of this.props.topics) {
      alarm.addAlarmAction(new SnsAction(topic));
      alarm.addOkAction(new SnsAction(topic));
    }
    this.alarms.push(alarm);
  }
}
