import * as registry from '../../functions/tunables';
import { ConfigError, readCodeSettings, readTunable } from '../../functions/config';
import { CODE_SETTINGS, everyTunable, SEND_LIMITS, SIGNATURE_SETTINGS, SMS_SENDER, USERS, type Tunable } from '../../functions/tunables';
import { readStageConfig, STAGE_PARAMETERS, StageConfigError } from '../../lib/stage-config';

// One rule per setting, for the functions (an environment variable at cold
// start) and for `cdk synth` (a context key) alike: the same text is refused
// by both with the same words, and taken by both as the same value.

/** The refusal of `text` as the functions read the tunable, without the variable's name; undefined when taken. */
function functionsRefusal(tunable: Tunable<unknown>, text: string): string | undefined {
  try {
    readTunable({ [tunable.env]: text }, tunable);
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message.replace(`${tunable.env} `, '');
  }
}

/** The refusal of `text` as synth reads the tunable's context key, without the key; undefined when taken. */
function synthRefusal(tunable: Tunable<unknown>, text: string): string | undefined {
  try {
    readStageConfig({ tryGetContext: (key: string): unknown => (key === tunable.context ? text : undefined) });
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(StageConfigError);
    return (error as Error).message.replace(`Context "${tunable.context}" `, '');
  }
}

/** A test row named by the variable: the tunable, a text, and the value it stands for where it is taken. */
const row = (tunable: Tunable<unknown>, text: string, value?: unknown) => [tunable.env, text, tunable, value] as const;

describe('one rule for the functions and for cdk synth', () => {
  it('refuses the country UK in both, with the same words, and points at GB', () => {
    const expected = 'must be comma-separated ISO 3166 alpha-2 codes such as CN,HK; "UK" is not one (did you mean GB?)';

    expect(() => readCodeSettings({ SMS_ALLOWED_COUNTRIES: 'CN,UK' })).toThrow(new ConfigError(`SMS_ALLOWED_COUNTRIES ${expected}`));
    expect(() => readStageConfig({ tryGetContext: (key: string): unknown => (key === 'smsAllowedCountries' ? 'CN,UK' : undefined) })).toThrow(
      new StageConfigError(`Context "smsAllowedCountries" ${expected}`),
    );
  });

  it('takes the countries of the phone metadata, in either case, in both', () => {
    expect(readCodeSettings({ SMS_ALLOWED_COUNTRIES: 'gb, CN,GB' }).allowedCountries).toEqual(new Set(['GB', 'CN']));
    expect(readStageConfig({ tryGetContext: (key: string): unknown => (key === 'smsAllowedCountries' ? 'gb, CN,GB' : undefined) }).code.allowedCountries).toEqual(
      new Set(['GB', 'CN']),
    );
  });

  it.each([
    row(CODE_SETTINGS.allowedCountries, 'UK'),
    row(CODE_SETTINGS.allowedCountries, 'AA'),
    row(CODE_SETTINGS.allowedCountries, 'CHN'),
    row(CODE_SETTINGS.allowedCountries, ','),
    row(CODE_SETTINGS.domesticCallingCode, 'china'),
    // Shaped like a calling code, but no country's: every national number would then be refused (5019).
    row(CODE_SETTINGS.domesticCallingCode, '999'),
    row(CODE_SETTINGS.codeTtlSeconds, '0'),
    row(SEND_LIMITS.maxPerMinute, '-1'),
    row(SEND_LIMITS.maxPerCountryPerMinute, '2.5'),
    row(SIGNATURE_SETTINGS.userDomains, 'a b'),
    row(SIGNATURE_SETTINGS.maxClockSkewSeconds, 'soon'),
    row(SMS_SENDER.senderId, '12345'),
    row(USERS.provisioning, 'Registered'),
    row(USERS.erasedRetentionDays, '1.5'),
  ])('refuses %s=%j in both with the same words', (_name, text, tunable) => {
    const refusal = functionsRefusal(tunable, text.trim());

    expect(refusal).toMatch(/^must be /);
    expect(synthRefusal(tunable, text)).toBe(refusal);
  });

  it.each([
    row(CODE_SETTINGS.domesticCallingCode, '+44', '44'),
    row(CODE_SETTINGS.domesticCallingCode, '0086', '86'),
    row(SEND_LIMITS.maxPerMinute, '0', 0),
    row(SIGNATURE_SETTINGS.userDomains, 'C.DM.1.1, C.DM.1.1,app.two', ['C.DM.1.1', 'app.two']),
    row(USERS.provisioning, 'registered', 'registered'),
  ])('takes %s=%j in both as the same value', (_name, text, tunable, value) => {
    expect(readTunable({ [tunable.env]: text }, tunable)).toEqual(value);
    expect(synthRefusal(tunable, text)).toBeUndefined();
    // What the stack writes back is read as the same value.
    expect(readTunable({ [tunable.env]: tunable.rule.format(value as NonNullable<unknown>) }, tunable)).toEqual(value);
  });

  it('lets a deployment take only an https key set, where a local run may use one on this machine', () => {
    const { jwksUrl } = registry.TOKEN_KEYS;

    expect(readTunable({ JWKS_URL: 'http://127.0.0.1:9/jwks.json' }, jwksUrl)).toBe('http://127.0.0.1:9/jwks.json');
    expect(functionsRefusal(jwksUrl, 'http://login.example.com/jwks.json')).toBe('must be an https URL, or http to 127.0.0.1, localhost or [::1]; got "http://login.example.com/jwks.json"');
    expect(synthRefusal(jwksUrl, 'http://127.0.0.1:9/jwks.json')).toBe('must be an https URL, got "http://127.0.0.1:9/jwks.json"');
  });
});

describe('the registry', () => {
  const tunables = everyTunable();

  it('lists every tunable the module holds, each variable and context key once', () => {
    const held = Object.values(registry).flatMap((value) =>
      typeof value === 'object' && value !== null && !Array.isArray(value) ? Object.values(value).filter((entry) => typeof entry === 'object' && entry !== null && 'env' in entry && 'rule' in entry) : [],
    );
    expect(new Set(tunables)).toEqual(new Set(held));
    const variables = tunables.map((tunable) => tunable.env);
    expect(new Set(variables).size).toBe(variables.length);
    const keys = [...tunables.flatMap((tunable) => tunable.context ?? []), ...Object.values(STAGE_PARAMETERS).map((parameter) => parameter.context)];
    expect(new Set(keys).size).toBe(keys.length);
    expect(new Set([...variables, ...registry.everyBinding()]).size).toBe(variables.length + registry.everyBinding().length);
  });

  it('gives every default a text its own rule reads back', () => {
    for (const tunable of tunables.filter((candidate) => candidate.default !== undefined)) {
      expect([tunable.env, readTunable({ [tunable.env]: registry.defaultText(tunable) }, tunable)]).toEqual([tunable.env, tunable.default]);
    }
    for (const tunable of tunables.filter((candidate) => candidate.default === undefined)) expect(readTunable({}, tunable)).toBeUndefined();
  });
});
