import type { MiddlewareObj } from '@middy/core';
import { DomainError, NoTurnInTime } from '../../domain/errors';
import { ResultCode } from '../../domain/result-codes';
import { count, metrics, type MetricName } from '../../observability';

/** Refusals worth a metric; others (parameter errors) are not business events. */
const metricOfRefusal: Partial<Record<number, MetricName>> = {
  [ResultCode.PhoneAlreadyRegistered]: 'PhoneTaken',
  [ResultCode.SmsCodeFailed]: 'WrongCodes',
  [ResultCode.SmsFrequencyLimited]: 'SendsRateLimited',
  [ResultCode.SmsSendingFailed]: 'SmsFailures',
};

/** Counts each request's outcome as an EMF metric and flushes it before the response leaves. */
export const outcomeMetrics = (onSuccess?: MetricName): MiddlewareObj => {
  // Not Powertools' logMetrics: it warns "No application metrics to publish" on every request that counted nothing (userInfo, a parameter error).
  const flush = () => {
    if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
  };
  return {
    after: async () => {
      if (onSuccess) count(onSuccess);
      flush();
    },
    onError: async (request) => {
      const { error } = request;
      // 5058 either way; only a send limit is a send rate-limited.
      const metric = error instanceof NoTurnInTime ? 'TurnsMissed' : error instanceof DomainError ? metricOfRefusal[error.code] : undefined;
      if (metric) count(metric);
      flush();
    },
  };
};
