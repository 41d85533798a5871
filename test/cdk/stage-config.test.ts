import { App } from 'aws-cdk-lib';
import { DEFAULT_ALARM_THRESHOLDS, DEFAULT_SEND_THROTTLE, DEFAULT_THROTTLE, DEV_PLACEHOLDERS, readStageConfig, StageConfigError } from '../../lib/stage-config';
import { ROUTES, routeKey } from '../../functions/http/routes';
import { CERTIFICATE_ARN, environmentOf, EXISTING_SECRET_ARN, FULL_CONTEXT, PROD_CONTEXT, synthesize } from './synth';

const configFrom = (context: Record<string, unknown>) => readStageConfig(new App({ context }).node);

describe('stage configuration from context', () => {
  it('defaults to dev, with clearly named placeholders for the key set and the user domains', () => {
    const config = configFrom({});

    expect(config.stage).toBe('dev');
    expect(config.placeholders).toEqual(['jwksUrl', 'userDomains']);
    expect(config.auth.jwksUrl).toBe(DEV_PLACEHOLDERS.jwksUrl);
    expect(config.userDomains).toEqual([DEV_PLACEHOLDERS.userDomains]);
    expect(Object.values(DEV_PLACEHOLDERS).every((value) => /placeholder/i.test(value))).toBe(true);
    expect(config.api.throttle).toEqual(DEFAULT_THROTTLE);
    expect(config.api.sendThrottle).toEqual(DEFAULT_SEND_THROTTLE);
    expect(DEFAULT_SEND_THROTTLE).toEqual({ rateLimit: 10, burstLimit: 20 });
    // Unset, so the send function applies its own breakers.
    expect(config.sendLimits).toMatchObject({ maxPerMinute: undefined, maxPerCountryPerMinute: undefined });
    expect(config.alarms).toEqual(DEFAULT_ALARM_THRESHOLDS);
    expect(config.tracing).toBe(false);
    expect(config.userDomainSecretsArn).toBeUndefined();
    // Unset, so the functions apply their own defaults (on-first-use, 30 days).
    expect(config.users).toEqual({ provisioning: undefined, erasedRetentionDays: undefined });
  });

  it('fails a prod synth without the required context, naming what is missing', () => {
    expect(() => synthesize({ stage: 'prod' })).toThrow(StageConfigError);
    expect(() => configFrom({ stage: 'prod' })).toThrow(/needs context "jwksUrl", "userDomains", "jwtIssuer"/);
    expect(() => configFrom({ ...PROD_CONTEXT, userDomains: ' ' })).toThrow(/needs context "userDomains";/);
  });

  it('names every problem of the context in one error, so one synth finds them all', () => {
    const { jwtIssuer: _issuer, ...withoutIssuer } = PROD_CONTEXT;
    const error = (() => {
      try {
        configFrom({ ...withoutIssuer, smsSenderId: '12345', throttleRateLimit: '0', tracing: true });
      } catch (thrown) {
        return thrown;
      }
      throw new Error('no error');
    })();

    expect(error).toBeInstanceOf(StageConfigError);
    const lines = (error as Error).message.split('\n');
    expect(lines[0]).toBe('The context has 3 problems (docs/DEPLOY.md lists every key):');
    expect(lines.slice(1)).toEqual([
      expect.stringMatching(/^ {2}- Stage "prod" needs context "jwtIssuer"; e\.g\. /),
      '  - Context "smsSenderId" must be 1-11 letters and digits, at least one letter, got "12345"',
      '  - Context "throttleRateLimit" must be a whole number >= 1, got "0"',
    ]);
  });

  it('compares no value with one already refused: one problem, not a second that follows from it', () => {
    expect(() => configFrom({ throttleRateLimit: 'many', sendThrottleRateLimit: '60' })).toThrow(/^Context "throttleRateLimit" must be a whole number >= 1, got "many"$/);
    expect(() => configFrom({ signatureMaxSkewSeconds: 'x', nonceTtlSeconds: '10' })).toThrow(/^Context "signatureMaxSkewSeconds" must be a whole number >= 1, got "x"$/);
    expect(() => configFrom({ domainName: 'API.example.com' })).toThrow(/^Context "domainName" must be a lower-case DNS name such as api\.example\.com, got "API\.example\.com"$/);
  });

  it('requires the token issuer in prod, where the key set may sign tokens of other issuers too', () => {
    const { jwtIssuer: _issuer, ...withoutIssuer } = PROD_CONTEXT;

    expect(() => configFrom(withoutIssuer)).toThrow(/Stage "prod" needs context "jwtIssuer"; e\.g\. .*-c jwtIssuer=/);
    expect(() => configFrom({ ...PROD_CONTEXT, jwtIssuer: ' ' })).toThrow(/needs context "jwtIssuer";/);
    expect(configFrom(PROD_CONTEXT).auth.issuer).toBe(PROD_CONTEXT.jwtIssuer);
    // Dev leaves `iss` unchecked, and no placeholder stands in for it.
    expect(configFrom({ jwksUrl: PROD_CONTEXT.jwksUrl, userDomains: 'C.DM.1.1' })).toMatchObject({ auth: { issuer: undefined }, placeholders: [] });
  });

  it('keeps a used random for at least the 2 × skew a signed send stays valid, defaults included', () => {
    const signature = (context: Record<string, unknown>) => configFrom({ ...PROD_CONTEXT, ...context }).signature;

    expect(signature({})).toEqual({ maxClockSkewSeconds: undefined, nonceTtlSeconds: undefined });
    expect(signature({ signatureMaxSkewSeconds: '300', nonceTtlSeconds: 600 })).toEqual({ maxClockSkewSeconds: 300, nonceTtlSeconds: 600 });
    expect(signature({ signatureMaxSkewSeconds: '60' })).toEqual({ maxClockSkewSeconds: 60, nonceTtlSeconds: undefined });
    expect(signature({ nonceTtlSeconds: '1200' })).toEqual({ maxClockSkewSeconds: undefined, nonceTtlSeconds: 1200 });
  });

  it('never lets a placeholder into prod', () => {
    const config = configFrom(PROD_CONTEXT);

    expect(config.placeholders).toEqual([]);
    expect(config.auth.jwksUrl).toBe(PROD_CONTEXT.jwksUrl);
    expect(config.userDomains).toEqual(['C.DM.5903.1', 'C.DM.5903.2']);
  });

  it('reads every optional setting', () => {
    const config = configFrom({
      ...FULL_CONTEXT,
      throttleRateLimit: '20',
      throttleBurstLimit: 40,
      sendThrottleRateLimit: '19',
      sendThrottleBurstLimit: 40,
      smsMaxPerCountryPerMinute: '30',
      codesSentAlarmThreshold: '500',
      smsFailuresAlarmThreshold: 2,
      smsSpendAlarmUsd: '80.5',
      userProvisioning: 'registered',
      erasedUserRetentionDays: '90',
    });

    expect(config).toMatchObject({
      auth: { issuer: 'https://login.example.com' },
      userDomainSecretsArn: EXISTING_SECRET_ARN,
      sms: { senderId: 'PhoneLink' },
      code: { allowedCountries: new Set(['CN', 'HK']) },
      api: {
        throttle: { rateLimit: 20, burstLimit: 40 },
        sendThrottle: { rateLimit: 19, burstLimit: 40 },
        corsAllowedOrigins: ['https://app.example.com', 'https://admin.example.com'],
        customDomain: { domainName: 'api.example.com', certificateArn: CERTIFICATE_ARN },
      },
      sendLimits: { maxPerCountryPerMinute: 30 },
      alarms: { email: 'oncall@example.com', topicArn: FULL_CONTEXT.alarmTopicArn, codesSentPer5Minutes: 500, smsFailuresPer5Minutes: 2, smsSpendUsd: 80.5 },
      users: { provisioning: 'registered', erasedRetentionDays: 90 },
      tracing: true,
    });
  });

  it.each([
    [{ stage: 'staging' }, /Unknown stage "staging"/],
    [{ jwksUrl: 'http://login.example.com/jwks.json' }, /jwksUrl" must be an https URL/],
    [{ userDomains: 'a b' }, /userDomains" must be comma-separated user domains/],
    [{ userDomainSecretsArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:domains' }, /userDomainSecretsArn" must be the complete ARN/],
    [{ smsAllowedCountries: 'CN,UK' }, /"UK" is not one/],
    [{ smsAllowedCountries: 'CHN' }, /"CHN" is not one/],
    [{ smsSenderId: '12345' }, /smsSenderId" must be 1-11 letters and digits/],
    [{ smsSenderId: 'PhoneLinkService' }, /smsSenderId"/],
    [{ corsAllowedOrigins: '*' }, /corsAllowedOrigins" must be comma-separated origins/],
    [{ corsAllowedOrigins: 'https://app.example.com/path' }, /corsAllowedOrigins"/],
    [{ corsAllowedOrigins: 'http://app.example.com' }, /corsAllowedOrigins"/],
    [{ domainName: 'api.example.com' }, /"domainName" and "certificateArn" go together/],
    [{ certificateArn: CERTIFICATE_ARN }, /go together/],
    [{ domainName: 'API.example.com', certificateArn: CERTIFICATE_ARN }, /domainName" must be a lower-case DNS name/],
    [{ alarmEmail: 'oncall' }, /alarmEmail" must be an email address/],
    [{ alarmTopicArn: 'oncall' }, /alarmTopicArn" must be an SNS topic ARN/],
    [{ tracing: 'yes' }, /tracing" must be true or false/],
    [{ smsMaxPerMinute: 'many' }, /smsMaxPerMinute" must be a whole number >= 0/],
    [{ smsMaxPerMinute: '-1' }, /smsMaxPerMinute" must be a whole number >= 0, got "-1"/],
    [{ smsMaxPerCountryPerMinute: '-1' }, /smsMaxPerCountryPerMinute" must be a whole number >= 0, got "-1"/],
    [{ smsMaxPerCountryPerMinute: '2.5' }, /smsMaxPerCountryPerMinute" must be a whole number >= 0/],
    [{ sendThrottleRateLimit: '-1' }, /sendThrottleRateLimit" must be a whole number >= 1, got "-1"/],
    [{ sendThrottleBurstLimit: '0' }, /sendThrottleBurstLimit" must be a whole number >= 1/],
    [{ sendThrottleRateLimit: '50' }, /"sendThrottleRateLimit" \(50\) must be below "throttleRateLimit" \(the default 50\)/],
    [{ sendThrottleRateLimit: '100', throttleRateLimit: '100', throttleBurstLimit: '200' }, /"sendThrottleRateLimit" \(100\) must be below "throttleRateLimit" \(100\)/],
    [{ throttleRateLimit: '10' }, /"sendThrottleRateLimit" \(the default 10\) must be below "throttleRateLimit" \(10\)/],
    [{ sendThrottleBurstLimit: '101' }, /"sendThrottleBurstLimit" \(101\) must be at most "throttleBurstLimit" \(the default 100\)/],
    [{ throttleBurstLimit: '19' }, /"sendThrottleBurstLimit" \(the default 20\) must be at most "throttleBurstLimit" \(19\)/],
    [{ smsSpendAlarmUsd: '-5' }, /smsSpendAlarmUsd" must be a number above 0, got "-5"/],
    [{ smsSpendAlarmUsd: '0' }, /smsSpendAlarmUsd" must be a number above 0/],
    [{ smsSpendAlarmUsd: 'USD 80' }, /smsSpendAlarmUsd" must be a number above 0/],
    [{ smsSpendAlarmUsd: 'Infinity' }, /smsSpendAlarmUsd" must be a number above 0/],
    [{ codeMaxWrongTries: '0' }, /codeMaxWrongTries" must be a whole number >= 1/],
    [{ throttleRateLimit: '0' }, /throttleRateLimit" must be a whole number >= 1/],
    [{ codesSentAlarmThreshold: '-5' }, /codesSentAlarmThreshold" must be a whole number >= 1/],
    [{ domesticCallingCode: '0086x' }, /domesticCallingCode" must be a country calling code/],
    [{ userProvisioning: 'lazy' }, /userProvisioning" must be on-first-use or registered, got "lazy"/],
    [{ userProvisioning: 'Registered' }, /userProvisioning" must be on-first-use or registered/],
    [{ erasedUserRetentionDays: '0' }, /erasedUserRetentionDays" must be a whole number >= 1/],
    [{ erasedUserRetentionDays: '1.5' }, /erasedUserRetentionDays" must be a whole number >= 1/],
    [{ nonceTtlSeconds: '1199' }, /"nonceTtlSeconds" must be at least 2 × "signatureMaxSkewSeconds" \(1200\), got 1199/],
    [{ signatureMaxSkewSeconds: '601' }, /"nonceTtlSeconds" must be at least 2 × "signatureMaxSkewSeconds" \(1202\), got the default 1200/],
    [{ signatureMaxSkewSeconds: '300', nonceTtlSeconds: '599' }, /\(600\), got 599/],
  ])('rejects bad context %j at synth', (context, message) => {
    expect(() => configFrom(context)).toThrow(message);
  });

  it('takes 0 for either send breaker: every send refused (5058), a kill switch', () => {
    expect(configFrom({ smsMaxPerMinute: '0', smsMaxPerCountryPerMinute: 0 }).sendLimits).toMatchObject({ maxPerMinute: 0, maxPerCountryPerMinute: 0 });
    expect(environmentOf(synthesize({ smsMaxPerMinute: '0', smsMaxPerCountryPerMinute: '0' }).template, routeKey(ROUTES.sendPhoneSmsCode))).toMatchObject({
      SMS_MAX_PER_MINUTE: '0',
      SMS_MAX_PER_COUNTRY_PER_MINUTE: '0',
    });
  });

  it('reads numbers and booleans given as strings (command line) or as such (cdk.json)', () => {
    const config = configFrom({ smsCooldownSeconds: '0', smsMaxPerMinute: 120, domesticCallingCode: '+44', tracing: true, erasedUserRetentionDays: 1, userProvisioning: ' on-first-use ' });

    expect(config.sendLimits).toMatchObject({ cooldownSeconds: 0, maxPerMinute: 120 });
    expect(configFrom({ smsSpendAlarmUsd: 250, sendThrottleRateLimit: 49, sendThrottleBurstLimit: '100' })).toMatchObject({
      alarms: { smsSpendUsd: 250 },
      api: { sendThrottle: { rateLimit: 49, burstLimit: 100 } },
    });
    expect(config.users).toEqual({ provisioning: 'on-first-use', erasedRetentionDays: 1 });
    expect(config.code.domesticCallingCode).toBe('44');
    expect(config.tracing).toBe(true);
  });
});
