import {
  type Alarm,
  AlarmStatusWidget,
  Dashboard,
  GraphWidget,
  type HorizontalAnnotation,
  type IMetric,
  type IWidget,
  TextWidget,
} from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import type { ServiceMetrics } from '../service-metrics';

export interface ServiceDashboardProps {
  /** The same metric objects the alarms watch. */
  readonly metrics: ServiceMetrics;
  /** Every alarm of the service: their state on top, and the thresholds drawn where a graph shows their metric. */
  readonly alarms: readonly Alarm[];
  readonly dashboardName: string;
}

/** The dashboard grid is 24 columns wide. */
const FULL = 24;
const HALF = 12;

/**
 * One CloudWatch dashboard for the service, read top to bottom: the alarms'
 * state, what users got done, what was refused (by envelope code), the SMS
 * spend, latency, errors, and DynamoDB.
 */
export class ServiceDashboard extends Construct {
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: ServiceDashboardProps) {
    super(scope, id);
    const { metrics: m, alarms } = props;
    const thresholdOf = (alarmName: string): HorizontalAnnotation[] => {
      const alarm = alarms.find((candidate) => candidate.node.id === alarmName);
      return alarm === undefined ? [] : [alarm.toAnnotation()];
    };
    // The functions share a timeout, so their near-timeout lines coincide: draw each distinct one once.
    const nearTimeout = [...new Map(m.functions.flatMap((fn) => thresholdOf(`${fn.name}NearTimeout`)).map((line) => [line.value, line])).values()];

    this.dashboard = new Dashboard(this, 'Dashboard', {
      dashboardName: props.dashboardName,
      widgets: [
        [new AlarmStatusWidget({ title: 'Alarms (docs/RUNBOOK.md says what to do)', alarms: [...alarms], width: FULL, height: 6 })],
        section('Business outcomes'),
        [
          graph('Outcomes (5-minute sums)', FULL, [
            m.app('CodesSent'),
            m.app('PhonesLinked'),
            m.app('PhonesUnlinked'),
            m.app('PhonesLinkedByAdmin'),
            m.app('UsersErased'),
          ]),
        ],
        section('Refusals, by envelope code'),
        [
          graph('Refusals', HALF, [m.app('PhoneTaken'), m.app('WrongCodes'), m.app('SendsRateLimited'), m.app('TurnsMissed'), m.app('SmsFailures')]),
          graph('Send breakers (5058) and SMS provider (5059)', HALF, [
            m.app('CountryBreakerTrips'),
            m.app('GlobalBreakerTrips'),
            m.app('SmsRefused'),
            m.app('SmsOutcomeUnknown'),
          ]),
        ],
        section('SMS spend'),
        [graph('SMS spend this month (USD), and the SmsSpend alarm threshold', FULL, [m.smsSpend], thresholdOf('SmsSpend'))],
        section('Latency'),
        [
          graph('API latency (ms)', HALF, [m.api.latencyP50, m.api.latencyP99]),
          graph(
            'Function duration (ms)',
            HALF,
            m.functions.flatMap((fn) => [fn.durationP50, fn.durationP99]),
            nearTimeout,
          ),
        ],
        section('Errors'),
        [
          graph('API responses', HALF / 2, [m.api.clientErrors, m.api.serverErrors]),
          graph('Function errors and throttles', HALF, m.functions.flatMap((fn) => [fn.errors, fn.throttles])),
          graph('Key set and data drift', HALF / 2, [m.app('KeySetFailures'), m.app('DataDriftRepaired')]),
        ],
        section('DynamoDB'),
        [
          graph('Throttled reads + writes', HALF, m.tables.map((table) => table.throttles)),
          graph('Consumed capacity units', HALF, m.tables.flatMap((table) => [table.consumedReads, table.consumedWrites])),
        ],
      ],
    });
  }
}

const section = (title: string): IWidget[] => [new TextWidget({ markdown: `### ${title}`, width: FULL, height: 1 })];

const graph = (title: string, width: number, left: IMetric[], leftAnnotations: HorizontalAnnotation[] = []): GraphWidget =>
  new GraphWidget({ title, width, height: 6, left, leftAnnotations });
