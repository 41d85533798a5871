import { ConfigError, readCodeRules, readSendLimits, readSignatureRules, readAuthConfig } from '../../functions/config';

describe('configuration', () => {
  it('has the contract defaults for every limit', () => {
    expect(readSendLimits({})).toEqual({ cooldownSeconds: 60, maxPerPhonePerDay: 10, maxPerIpPerHour: 50, maxPerMinute: 300 });
    expect(readCodeRules({ CODE_PEPPER: 'p' })).toEqual({
      pepper: 'p',
      codeTtlSeconds: 300,
      maxWrongTries: 5,
      domesticCallingCode: '86',
    });
  });

  it('takes overrides from the environment', () => {
    expect(readSendLimits({ SMS_COOLDOWN_SECONDS: '0', SMS_MAX_PER_MINUTE: '1000' })).toMatchObject({
      cooldownSeconds: 0,
      maxPerMinute: 1000,
    });
    expect(readCodeRules({ CODE_PEPPER: 'p', DOMESTIC_CALLING_CODE: '+44' }).domesticCallingCode).toBe('44');
  });

  it.each([
    [() => readCodeRules({}), /CODE_PEPPER/],
    [() => readSendLimits({ SMS_MAX_PER_MINUTE: '0' }), /SMS_MAX_PER_MINUTE/],
    [() => readSendLimits({ SMS_COOLDOWN_SECONDS: 'soon' }), /SMS_COOLDOWN_SECONDS/],
    [() => readCodeRules({ CODE_PEPPER: 'p', DOMESTIC_CALLING_CODE: 'china' }), /DOMESTIC_CALLING_CODE/],
    [() => readSignatureRules({ USER_DOMAIN_SECRETS: 'not json' }), /USER_DOMAIN_SECRETS/],
    [() => readSignatureRules({ USER_DOMAIN_SECRETS: '{}' }), /USER_DOMAIN_SECRETS/],
    [() => readAuthConfig({}), /JWKS_URL/],
  ])('fails fast on a missing or malformed setting (%#)', (read, message) => {
    expect(read).toThrow(ConfigError);
    expect(read).toThrow(message);
  });
});
