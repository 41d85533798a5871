import {
  ConfigError,
  readAuthConfig,
  readCodeSettings,
  readPepperSource,
  readPhoneLinksMode,
  readSendLimits,
  readSignatureSettings,
  readUserDomainSecretsSource,
  signatureRules,
} from '../../functions/config';

describe('configuration', () => {
  it('has the contract defaults for every limit', () => {
    expect(readSendLimits({})).toEqual({ cooldownSeconds: 60, maxPerPhonePerDay: 10, maxPerIpPerHour: 50, maxPerMinute: 300, maxPerCountryPerMinute: 100 });
    expect(readCodeSettings({})).toEqual({ codeTtlSeconds: 300, maxWrongTries: 5, domesticCallingCode: '86', allowedCountries: undefined });
    expect(readSignatureSettings({})).toEqual({ userDomains: undefined, maxClockSkewSeconds: 600, nonceTtlSeconds: 1200 });
  });

  it('takes overrides from the environment', () => {
    expect(readSendLimits({ SMS_COOLDOWN_SECONDS: '0', SMS_MAX_PER_MINUTE: '1000' })).toMatchObject({ cooldownSeconds: 0, maxPerMinute: 1000 });
    expect(readSendLimits({ SMS_MAX_PER_COUNTRY_PER_MINUTE: '20' })).toMatchObject({ maxPerCountryPerMinute: 20 });
    // 0 is the kill switch: every send refused with 5058.
    expect(readSendLimits({ SMS_MAX_PER_MINUTE: '0', SMS_MAX_PER_COUNTRY_PER_MINUTE: '0' })).toMatchObject({ maxPerMinute: 0, maxPerCountryPerMinute: 0 });
    expect(readCodeSettings({ DOMESTIC_CALLING_CODE: '+44' }).domesticCallingCode).toBe('44');
    expect(readCodeSettings({ SMS_ALLOWED_COUNTRIES: 'CN, HK' }).allowedCountries).toEqual(new Set(['CN', 'HK']));
  });

  it('reads a secret from Secrets Manager when an ARN is given, else takes the value', () => {
    const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:pepper-AbCdEf';
    expect(readPepperSource({ CODE_PEPPER_SECRET_ARN: arn, CODE_PEPPER: 'ignored' })).toEqual({ secretArn: arn });
    expect(readPepperSource({ CODE_PEPPER: 'p' })).toEqual({ value: 'p' });
    expect(readUserDomainSecretsSource({ USER_DOMAIN_SECRETS: '{"a":"b"}' })).toEqual({ value: '{"a":"b"}' });
  });

  it('remembers a used random for at least the 2 × skew a signed request stays valid', () => {
    expect(readSignatureSettings({ SIGNATURE_MAX_SKEW_SECONDS: '300', NONCE_TTL_SECONDS: '600' })).toMatchObject({ maxClockSkewSeconds: 300, nonceTtlSeconds: 600 });
    expect(readSignatureSettings({ NONCE_TTL_SECONDS: '1200' }).nonceTtlSeconds).toBe(1200);
    expect(readSignatureSettings({ SIGNATURE_MAX_SKEW_SECONDS: '60' })).toMatchObject({ maxClockSkewSeconds: 60, nonceTtlSeconds: 1200 });
  });

  it('serves the configured user domains, each with its secret', () => {
    const rules = signatureRules(readSignatureSettings({ USER_DOMAINS: 'app.one' }), '{"app.one":"s1","app.two":"s2"}');
    expect([...rules.userDomainSecrets]).toEqual([['app.one', 's1']]);
    expect([...signatureRules(readSignatureSettings({}), '{"app.one":"s1","app.two":"s2"}').userDomainSecrets.keys()]).toEqual(['app.one', 'app.two']);
  });

  it.each([
    [() => readPepperSource({}), /CODE_PEPPER/],
    [() => readSendLimits({ SMS_MAX_PER_MINUTE: '-1' }), /SMS_MAX_PER_MINUTE/],
    [() => readSendLimits({ SMS_MAX_PER_COUNTRY_PER_MINUTE: 'many' }), /SMS_MAX_PER_COUNTRY_PER_MINUTE/],
    [() => readSendLimits({ SMS_MAX_PER_PHONE_PER_DAY: '0' }), /SMS_MAX_PER_PHONE_PER_DAY/],
    [() => readSendLimits({ SMS_COOLDOWN_SECONDS: 'soon' }), /SMS_COOLDOWN_SECONDS/],
    [() => readCodeSettings({ DOMESTIC_CALLING_CODE: 'china' }), /DOMESTIC_CALLING_CODE/],
    [() => readCodeSettings({ SMS_ALLOWED_COUNTRIES: 'China' }), /SMS_ALLOWED_COUNTRIES/],
    [() => signatureRules(readSignatureSettings({}), 'not json'), /JSON object/],
    [() => signatureRules(readSignatureSettings({}), '{}'), /No user domain/],
    [() => signatureRules(readSignatureSettings({ USER_DOMAINS: 'app.three' }), '{"app.one":"s1"}'), /app\.three/],
    [() => readAuthConfig({}), /JWKS_URL/],
    [() => readAuthConfig({ JWKS_JSON: '{"keys": []}' }), /at least one key/],
    [() => readAuthConfig({ JWKS_JSON: '{"keys": ' }), /JWKS_JSON must be a JSON key set/],
    [() => readAuthConfig({ JWKS_JSON: 'null' }), /at least one key/],
    [() => readSignatureSettings({ NONCE_TTL_SECONDS: '1199' }), /NONCE_TTL_SECONDS must be at least 2 × SIGNATURE_MAX_SKEW_SECONDS \(1200\), got 1199/],
    [() => readSignatureSettings({ SIGNATURE_MAX_SKEW_SECONDS: '601' }), /NONCE_TTL_SECONDS must be at least 2 × SIGNATURE_MAX_SKEW_SECONDS \(1202\), got 1200/],
    [() => readSignatureSettings({ SIGNATURE_MAX_SKEW_SECONDS: '300', NONCE_TTL_SECONDS: '599' }), /\(600\), got 599/],
  ])('fails fast on a missing or malformed setting (%#)', (read, message) => {
    expect(read).toThrow(ConfigError);
    expect(read).toThrow(message);
  });

  it('writes links in one transaction unless PHONE_LINKS_MODE names ordered writes, and refuses any other mode', () => {
    expect(readPhoneLinksMode({})).toBe('transactions');
    expect(readPhoneLinksMode({ PHONE_LINKS_MODE: ' ' })).toBe('transactions');
    expect(readPhoneLinksMode({ PHONE_LINKS_MODE: 'transactions' })).toBe('transactions');
    expect(readPhoneLinksMode({ PHONE_LINKS_MODE: ' ordered-writes ' })).toBe('ordered-writes');
    expect(() => readPhoneLinksMode({ PHONE_LINKS_MODE: 'eventual' })).toThrow(ConfigError);
    expect(() => readPhoneLinksMode({ PHONE_LINKS_MODE: 'Ordered-Writes' })).toThrow('PHONE_LINKS_MODE must be transactions or ordered-writes, got "Ordered-Writes"');
  });
});
