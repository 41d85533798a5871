import { CLIENT_SETTINGS, longestCallMs } from '../../functions/adapters/aws/client-config';
import { LAST_ATTEMPT_MS, LAST_CALL_MS, REQUEST_BUDGET_MS } from '../../functions/request-budget';

/**
 * The budget arithmetic: every path's calls, in the order it makes them when
 * nothing has to be read again (database-calls.test.ts pins these
 * sequences), each call taking as long as its settings allow. Each sum must
 * leave the request inside REQUEST_BUDGET_MS. Drift repairs, a secret read
 * at cold start or cache expiry and a key-set fetch come on top of these and
 * are not bounded by the settings alone. Re-reads after a lost race are
 * bounded by the request's deadline, which keeps room for the last try.
 */
const dynamodb = longestCallMs('dynamodb');
const sns = longestCallMs('sns');
const smsVoice = longestCallMs('smsVoice');

const longestPaths: Record<string, number> = {
  // The issue transaction, the Publish refused at its timeout, the withdraw
  // transaction finding a newer code, then the counts taken back alone.
  'sendPhoneSmsCode, the provider refuses': dynamodb + sns + dynamodb + dynamodb,
  'sendPhoneSmsCode, the outcome unknown': dynamodb + sns,
  'sendPhoneSmsCode over End User Messaging, the provider refuses': dynamodb + smsVoice + dynamodb + dynamodb,
  'sendPhoneSmsCode over End User Messaging, the outcome unknown': dynamodb + smsVoice,
  'sendPhoneSmsCode, a limit reached: the refused transaction, then the nonce alone': dynamodb + dynamodb,
  'relationPhone: BatchGetItem, then TransactWriteItems (or the wrong try)': dynamodb + dynamodb,
  'deletePhoneRelation: the user, the code, then TransactWriteItems': dynamodb + dynamodb + dynamodb,
  'userInfo: the user': dynamodb,
  'admin get and register: one call': dynamodb,
  'admin link and erase: the user, then TransactWriteItems': dynamodb + dynamodb,
};

describe('the request budget', () => {
  it('still rides out a blip: DynamoDB and Secrets Manager calls are retried, a Publish or a SendTextMessage is sent once', () => {
    expect(CLIENT_SETTINGS.dynamodb.maxAttempts).toBeGreaterThanOrEqual(2);
    expect(CLIENT_SETTINGS.secretsManager.maxAttempts).toBeGreaterThanOrEqual(2);
    expect(CLIENT_SETTINGS.sns.maxAttempts).toBe(1);
    expect(CLIENT_SETTINGS.smsVoice.maxAttempts).toBe(1);
  });

  it.each(Object.entries(longestPaths))('%s fits in the budget', (_path, longest) => {
    expect(longest).toBeLessThanOrEqual(REQUEST_BUDGET_MS);
  });

  it('keeps room, after a lost race, for the last try at its slowest: one call for a retried write or a turn, two for a send', () => {
    expect(LAST_CALL_MS).toBeGreaterThanOrEqual(dynamodb);
    expect(LAST_ATTEMPT_MS).toBeGreaterThanOrEqual(dynamodb + dynamodb);
  });
});
