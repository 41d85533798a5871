import { Alarm, ComparisonOperator, type IMetric, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { ServiceMetrics } from '../service-metrics';
import type { AlarmSettings } from '../stage-config';

export interface ServiceAlarmsProps {
  /** What the alarms watch; the dashboard shows the same metrics. */
  readonly metrics: ServiceMetrics;
  readonly thresholds: Pick<AlarmSettings, 'codesSentPer5Minutes' | 'smsFailuresPer5Minutes' | 'smsSpendUsd'>;
  /** Notified when an alarm fires and when it clears; none = visible in the console only. */
  readonly topics: readonly ITopic[];
  /** Prefix of the alarm names, e.g. the stack name, so notifications say which deployment. */
  readonly namePrefix: string;
}

/** Any one of these in a 5-minute period is worth someone's attention. */
const ANY = 1;
/** The share of its timeout at which a function's p99 duration is close enough to it to act on. */
const NEAR_TIMEOUT_SHARE = 0.8;

interface AlarmOptions {
  /** The section of docs/RUNBOOK.md that says what to do. @default the alarm id, lower-cased */
  readonly runbook?: string;
  /** @default NOT_BREACHING: no data (no traffic) is not a breach */
  readonly treatMissingData?: TreatMissingData;
}

/**
 * What someone on call needs to hear about: the API failing (5xx), a
 * function crashing, throttled or close to its timeout, a table throttled,
 * the login service's key set out of reach, the SMS provider refusing sends,
 * a surge of codes sent (SMS pumping: someone making us text premium
 * numbers), a send breaker tripping, and the month's SMS spend nearing its limit.
 * Each alarm looks at one 5-minute period, and each description ends with
 * the section of docs/RUNBOOK.md that says what to do.
 */
export class ServiceAlarms extends Construct {
  readonly alarms: Alarm[] = [];

  constructor(scope: Construct, id: string, private readonly props: ServiceAlarmsProps) {
    super(scope, id);
    const { metrics, thresholds } = props;

    // Any 500 is a fault (business refusals answer 200), but one transient blip should not page anyone.
    this.add('Api5xx', metrics.api.serverErrors, 5, "The API answered HTTP 5xx: see the functions' error logs.");

    for (const fn of metrics.functions) {
      const { name } = fn;
      // Errors are crashes and timeouts that escaped the handler's own 500 envelope: each one is a bug or an outage.
      this.add(`${name}Errors`, fn.errors, ANY, `${name} failed (unhandled error or timeout): see its log group.`, { runbook: 'errors' });
      // Throttles mean the account's concurrency ran out: requests were refused before reaching the code.
      this.add(`${name}Throttles`, fn.throttles, ANY, `${name} was throttled: Lambda concurrency exhausted.`, { runbook: 'throttles' });
      // A p99 this close to the timeout means the slowest requests are about to be cut off (and answered 500).
      const threshold = Math.round(fn.timeout.toMilliseconds() * NEAR_TIMEOUT_SHARE);
      this.add(
        `${name}NearTimeout`,
        fn.durationP99,
        threshold,
        `${name} p99 duration reached ${threshold} ms, ${NEAR_TIMEOUT_SHARE * 100}% of its ${fn.timeout.toSeconds()} s timeout: ` +
          'a dependency (DynamoDB, SNS, the key set) is slow; see the slow requests in its logs.',
        { runbook: 'neartimeout' },
      );
    }

    for (const table of metrics.tables) {
      this.add(
        `${table.name}Throttles`,
        table.throttles,
        ANY,
        `DynamoDB throttled reads or writes on ${table.name} (a hot key or the table's or account's on-demand limit): ` +
          'requests retry, then answer 500.',
      );
    }

    // Counted only when the key set could not be had, never for a bad token, so no client can
    // trip it; each one is a signed-in request answered 500, which Api5xx's threshold would let pass.
    this.add(
      'KeySetFailures',
      metrics.app('KeySetFailures'),
      ANY,
      'The login service key set (JWKS_URL) could not be fetched: signed-in requests answer HTTP 500. See the KeySetUnavailable errors in the logs.',
    );
    this.add(
      'SmsFailures',
      metrics.app('SmsFailures'),
      thresholds.smsFailuresPer5Minutes,
      'The SMS provider refused sends (5059): check SNS spend limit, sandbox status and delivery logs.',
    );
    this.add(
      'SendRateSpike',
      metrics.app('CodesSent'),
      thresholds.codesSentPer5Minutes,
      `${thresholds.codesSentPer5Minutes} or more codes sent in 5 minutes: possible SMS pumping; check destinations and source IPs in the logs.`,
    );
    // The breakers refuse sends (5058) to stop spending during a flood: one trip means a flood, or a limit set too low.
    this.add(
      'CountryBreakerTrips',
      metrics.app('CountryBreakerTrips'),
      ANY,
      "A destination country's send breaker (smsMaxPerCountryPerMinute) was full: sends there answer 5058. " +
        'Check which country in the send logs: a pumping attempt, or real traffic above the limit.',
    );
    this.add(
      'GlobalBreakerTrips',
      metrics.app('GlobalBreakerTrips'),
      ANY,
      'The global send breaker (smsMaxPerMinute) was full: every send answers 5058 until the minute turns. ' +
        'Check the destinations and source IPs in the logs: a flood, or real traffic above the limit.',
    );
    // Month to date, so it only grows until the month turns: a period without data (no SMS sent)
    // leaves it where it was, and must neither clear the alarm nor raise it.
    this.add(
      'SmsSpend',
      metrics.smsSpend,
      thresholds.smsSpendUsd,
      `SMS spend this month reached USD ${thresholds.smsSpendUsd} (smsSpendAlarmUsd): at the account's SNS MonthlySpendLimit, ` +
        'SNS refuses every send (5059). Check for pumping, then raise the limit or tighten the send limits.',
      { treatMissingData: TreatMissingData.IGNORE },
    );
  }

  private add(id: string, metric: IMetric, threshold: number, description: string, options: AlarmOptions = {}): void {
    const alarm = new Alarm(this, id, {
      alarmName: `${this.props.namePrefix}-${id}`,
      alarmDescription: `${description} See docs/RUNBOOK.md#${options.runbook ?? id.toLowerCase()}`,
      metric,
      threshold,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: options.treatMissingData ?? TreatMissingData.NOT_BREACHING,
    });
    for (const topic of this.props.topics) {
      alarm.addAlarmAction(new SnsAction(topic));
      alarm.addOkAction(new SnsAction(topic));
    }
    this.alarms.push(alarm);
  }
}
