import { App } from 'aws-cdk-lib';
import { DEV_PLACEHOLDERS, readStageConfig, StageConfigError } from '../../lib/stage-config';
import { PROD_CONTEXT, synthesize } from './synth';

const configFrom = (context: Record<string, unknown>) => readStageConfig(new App({ context }).node);

describe('stage configuration from context', () => {
  it('defaults to dev, with clearly named placeholders for the secrets', () => {
    const config = configFrom({});

    expect(config.stage).toBe('dev');
    expect(config.usesPlaceholders).toBe(true);
    expect(config.secrets).toEqual({
      codePepper: DEV_PLACEHOLDERS.codePepper,
      userDomainSecrets: DEV_PLACEHOLDERS.userDomainSecrets,
    });
    expect(config.auth.jwksUrl).toBe(DEV_PLACEHOLDERS.jwksUrl);
    expect(Object.values(DEV_PLACEHOLDERS).every((value) => /placeholder/i.test(value))).toBe(true);
  });

  it('fails a prod synth without the required context, naming what is missing', () => {
    expect(() => synthesize({ stage: 'prod' })).toThrow(StageConfigError);
    expect(() => configFrom({ stage: 'prod' })).toThrow(/"jwksUrl", "userDomainSecrets", "codePepper"/);
    expect(() => configFrom({ ...PROD_CONTEXT, codePepper: '' })).toThrow(/needs context "codePepper";/);
  });

  it('never lets a placeholder into prod', () => {
    const config = configFrom({ ...PROD_CONTEXT });

    expect(config.usesPlaceholders).toBe(false);
    expect(config.secrets).toEqual({ codePepper: 'x', userDomainSecrets: '{"d":"s"}' });
    expect(config.auth.jwksUrl).toBe(PROD_CONTEXT.jwksUrl);
  });

  it.each([
    [{ stage: 'staging' }, /Unknown stage "staging"/],
    [{ userDomainSecrets: 'd=s' }, /userDomainSecrets/],
    [{ userDomainSecrets: '{}' }, /userDomainSecrets/],
    [{ userDomainSecrets: '{"d":""}' }, /userDomainSecrets/],
    [{ jwksUrl: 'http://login.example.com/jwks.json' }, /jwksUrl" must be an https URL/],
    [{ smsMaxPerMinute: 'many' }, /smsMaxPerMinute" must be a whole number >= 1/],
    [{ codeMaxWrongTries: '0' }, /codeMaxWrongTries" must be a whole number >= 1/],
    [{ domesticCallingCode: '0086x' }, /domesticCallingCode" must be a country calling code/],
  ])('rejects bad context %j at synth', (context, message) => {
    expect(() => configFrom(context)).toThrow(message);
  });

  it('reads numbers given as strings (command line) or numbers (cdk.json)', () => {
    const config = configFrom({ smsCooldownSeconds: '0', smsMaxPerMinute: 120, domesticCallingCode: '+44' });

    expect(config.sendLimits).toMatchObject({ cooldownSeconds: 0, maxPerMinute: 120 });
    expect(config.code.domesticCallingCode).toBe('44');
  });
});
