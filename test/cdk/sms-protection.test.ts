import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import { SmsProtection, SmsProtectionError, type SmsProtectionProps } from '../../lib/constructs/sms-protection';
import { SMS_COUNTRIES } from '../../lib/sms-countries.generated';

process.env.CDK_VALIDATION = 'false';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** A small stack: the SMS protection, and one function role granted to send and to report feedback. */
function synthesize(props?: SmsProtectionProps) {
  const app = new App();
  const stack = new Stack(app, 'SmsProtectionTest');
  const role = new Role(stack, 'SenderRole', { assumedBy: new ServicePrincipal('lambda.amazonaws.com') });
  const sms = new SmsProtection(stack, 'Sms', props);
  sms.grantSend(role);
  sms.grantFeedback(role);
  return { app, stack, sms, template: Template.fromStack(stack) };
}

const only = (template: Template, type: string): Json => {
  const resources = Object.values(template.findResources(type));
  expect(resources).toHaveLength(1);
  return resources[0] as Json;
};

const smsRulesOf = (template: Template) =>
  (only(template, 'AWS::SMSVOICE::ProtectConfiguration').Properties.CountryRuleSet.SMS as { CountryCode: string; ProtectStatus: string }[]);

describe('SmsProtection', () => {
  it('has an SMS rule for every country End User Messaging knows, each exactly once', () => {
    const rules = smsRulesOf(synthesize({ allowedCountries: ['CN', 'HK'] }).template);

    const codes = rules.map((rule) => rule.CountryCode);
    expect(codes).toHaveLength(SMS_COUNTRIES.length);
    expect(new Set(codes).size).toBe(codes.length);
    expect([...codes].sort()).toEqual([...SMS_COUNTRIES].sort());
  });

  it('allows exactly the deployment\'s countries and blocks every other', () => {
    const rules = smsRulesOf(synthesize({ allowedCountries: ['CN', 'HK'] }).template);

    expect(rules.filter((rule) => rule.ProtectStatus === 'ALLOW').map((rule) => rule.CountryCode)).toEqual(['CN', 'HK']);
    expect(rules.filter((rule) => rule.ProtectStatus === 'BLOCK')).toHaveLength(SMS_COUNTRIES.length - 2);
    expect(new Set(rules.map((rule) => rule.ProtectStatus))).toEqual(new Set(['ALLOW', 'BLOCK']));
  });

  it('with no list of countries, allows every one', () => {
    const rules = smsRulesOf(synthesize().template);

    expect(rules).toHaveLength(SMS_COUNTRIES.length);
    expect(rules.every((rule) => rule.ProtectStatus === 'ALLOW')).toBe(true);
  });

  it.each([
    [['CN', 'AC'], /no rule for AC/],
    [['ZZ', 'XX'], /no rule for ZZ, XX/],
    [['cn'], /no rule for cn/],
    [[], /at least one allowed country/],
  ])('fails synth, saying why, for the allowed countries %p', (allowedCountries, message) => {
    expect(() => synthesize({ allowedCountries })).toThrow(SmsProtectionError);
    expect(() => synthesize({ allowedCountries })).toThrow(message);
  });

  it('sends through a configuration set that carries the protect configuration, with message feedback on', () => {
    const { template } = synthesize({ allowedCountries: ['CN'], defaultSenderId: 'PhoneLink' });

    const protectId = Object.keys(template.findResources('AWS::SMSVOICE::ProtectConfiguration'))[0]!;
    expect(only(template, 'AWS::SMSVOICE::ConfigurationSet').Properties).toEqual({
      ProtectConfigurationId: { 'Fn::GetAtt': [protectId, 'ProtectConfigurationId'] },
      MessageFeedbackEnabled: true,
      DefaultSenderId: 'PhoneLink',
    });
    expect(only(template, 'AWS::SMSVOICE::ProtectConfiguration').Properties.DeletionProtectionEnabled).toBe(false);
  });

  it('keeps the protect configuration from deletion when asked (prod)', () => {
    const { template } = synthesize({ deletionProtection: true });

    expect(only(template, 'AWS::SMSVOICE::ProtectConfiguration').Properties.DeletionProtectionEnabled).toBe(true);
  });

  it('grants exactly SendTextMessage on the configuration set and its protect configuration, and PutMessageFeedback on messages', () => {
    const { template } = synthesize({ allowedCountries: ['CN'] });
    const [configurationSet] = Object.keys(template.findResources('AWS::SMSVOICE::ConfigurationSet'));
    const [protect] = Object.keys(template.findResources('AWS::SMSVOICE::ProtectConfiguration'));

    const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap((policy: Json) => policy.Properties.PolicyDocument.Statement as Json[]);

    expect(statements).toEqual([
      {
        Sid: 'SendTextMessageThroughTheConfigurationSet',
        Effect: 'Allow',
        Action: 'sms-voice:SendTextMessage',
        Resource: [{ 'Fn::GetAtt': [configurationSet, 'Arn'] }, { 'Fn::GetAtt': [protect, 'Arn'] }],
      },
      {
        Sid: 'PutMessageFeedbackOnOurMessages',
        Effect: 'Allow',
        Action: 'sms-voice:PutMessageFeedback',
        Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':sms-voice:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':message/*']] },
      },
    ]);
    template.resourcePropertiesCountIs('AWS::IAM::Policy', { Roles: [{ Ref: Match.stringLikeRegexp('^SenderRole') }] }, 2);
  });

  describe('the AWS Solutions rule pack (cdk-nag)', () => {
    const findings = (app: App) => new AwsSolutionsChecks(app).validateScope(app).violations.map((violation) => violation.ruleName);

    it('finds nothing unacknowledged', () => {
      expect(findings(synthesize({ allowedCountries: ['CN', 'HK'] }).app)).toEqual([]);
    });

    it('needs the one acknowledgement, the message id of PutMessageFeedback, and nothing else', () => {
      const acknowledge = jest.spyOn(Validations.prototype, 'acknowledge').mockImplementation(() => undefined);
      try {
        expect(findings(synthesize({ allowedCountries: ['CN', 'HK'] }).app)).toEqual([
          'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:sms-voice:<AWS::Region>:<AWS::AccountId>:message/*]',
        ]);
      } finally {
        acknowledge.mockRestore();
      }
    });
  });
});
