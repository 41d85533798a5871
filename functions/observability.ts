import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { BINDINGS } from './tunables';

const serviceName = process.env[BINDINGS.serviceName] ?? 'phone-link';

/** Structured JSON logs with the request id; one logger per container. Never log a code, token or secret. */
export const logger = new Logger({ serviceName });

/** CloudWatch EMF metrics, flushed at the end of each request. */
export const metrics = new Metrics({ namespace: process.env[BINDINGS.metricsNamespace] ?? 'PhoneLink', serviceName });

/** The business events the alarms and dashboards watch. */
export type MetricName =
  | 'CodesSent'
  | 'SmsFailures'
  /** The SMS provider refused a message, so its code was withdrawn (SmsFailures counts every 5059). */
  | 'SmsRefused'
  /** Whether the SMS went out is unknown (no answer, a provider fault), so its code was kept. */
  | 'SmsOutcomeUnknown'
  | 'PhonesLinked'
  | 'PhonesUnlinked'
  | 'WrongCodes'
  | 'SendsRateLimited'
  /** A send refused (5058) because its destination country's minute breaker was full. */
  | 'CountryBreakerTrips'
  /** A send refused (5058) because the global minute breaker was full. */
  | 'GlobalBreakerTrips'
  | 'PhoneTaken'
  | 'PhonesLinkedByAdmin'
  | 'UsersErased'
  | 'DataDriftRepaired'
  /** A link, unlink or erasure left half-done (a crash) that the scheduled reconciler finished. */
  | 'LinksFinishedByReconciler'
  /** A link, unlink or erasure left half-done that the reconciler rolled back. */
  | 'LinksRolledBack'
  /** Tombstones of erased users the reconciler deleted after their retention (no TTL on a multi-Region table). */
  | 'TombstonesRemoved'
  /** A request answered 500 because the login service's key set could not be had; never a bad token. */
  | 'KeySetFailures'
  /** A link, unlink or erasure refused (5058) because the same user's concurrent requests left it no turn within its budget. */
  | 'TurnsMissed';

export const count = (name: MetricName): void => {
  metrics.addMetric(name, MetricUnit.Count, 1);
};

/** `+8613800138000` -> `+86138****8000`: enough to tell numbers apart in logs, not enough to text one. */
export const maskPhone = (e164: string): string =>
  e164.length <= 8 ? '****' : `${e164.slice(0, e164.length - 8)}****${e164.slice(-4)}`;
