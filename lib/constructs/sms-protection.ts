import { ArnFormat, Stack, Validations } from 'aws-cdk-lib';
import { Policy, PolicyStatement, type IRole } from 'aws-cdk-lib/aws-iam';
import { CfnConfigurationSet, CfnProtectConfiguration } from 'aws-cdk-lib/aws-smsvoice';
import { Construct } from 'constructs';
import { SMS_COUNTRIES } from '../sms-countries.generated';

export interface SmsProtectionProps {
  /** ISO 3166-1 alpha-2 countries SMS may go to; every other is blocked. Unset: every country is allowed. */
  readonly allowedCountries?: readonly string[];
  /** Alphanumeric sender id, used where the destination country supports one and no number of ours is. */
  readonly defaultSenderId?: string;
  /** Keep the protect configuration from being deleted (prod). */
  readonly deletionProtection?: boolean;
}

/** Thrown at synth for a configuration End User Messaging would refuse or misread. */
export class SmsProtectionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SmsProtectionError';
  }
}

/**
 * AWS End User Messaging SMS, set up for sending codes: a protect
 * configuration whose SMS rules allow exactly the deployment's countries and
 * block every other, and the configuration set the functions send through,
 * which carries it, message feedback on. The rule set names every country
 * End User Messaging knows (SMS_COUNTRIES), as the service answers it: a
 * shorter one drifts, and leaves the countries it omits allowed.
 */
export class SmsProtection extends Construct {
  readonly protectConfiguration: CfnProtectConfiguration;
  readonly configurationSet: CfnConfigurationSet;
  /** What SendTextMessage names as its ConfigurationSetName. */
  readonly configurationSetName: string;
  readonly configurationSetArn: string;
  readonly protectConfigurationArn: string;

  constructor(scope: Construct, id: string, props: SmsProtectionProps = {}) {
    super(scope, id);
    const allowed = allowedCountriesOf(props.allowedCountries);

    this.protectConfiguration = new CfnProtectConfiguration(this, 'ProtectConfiguration', {
      countryRuleSet: {
        sms: SMS_COUNTRIES.map((country) => ({ countryCode: country, protectStatus: allowed(country) ? 'ALLOW' : 'BLOCK' })),
      },
      deletionProtectionEnabled: props.deletionProtection ?? false,
    });
    this.configurationSet = new CfnConfigurationSet(this, 'ConfigurationSet', {
      protectConfigurationId: this.protectConfiguration.attrProtectConfigurationId,
      messageFeedbackEnabled: true,
      ...(props.defaultSenderId ? { defaultSenderId: props.defaultSenderId } : {}),
    });
    this.configurationSetName = this.configurationSet.ref;
    this.configurationSetArn = this.configurationSet.attrArn;
    this.protectConfigurationArn = this.protectConfiguration.attrArn;
  }

  /**
   * Lets the role send SMS through this configuration set, and nothing else:
   * sms-voice:SendTextMessage on the configuration set and its protect
   * configuration, the resources such a send names. Returns the policy, for
   * the function to depend on.
   */
  grantSend(role: IRole): Policy {
    return new Policy(role, 'EndUserMessagingSend', {
      roles: [role],
      statements: [
        new PolicyStatement({
          sid: 'SendTextMessageThroughTheConfigurationSet',
          actions: ['sms-voice:SendTextMessage'],
          resources: [this.configurationSetArn, this.protectConfigurationArn],
        }),
      ],
    });
  }

  /**
   * Lets the role report a message as received: sms-voice:PutMessageFeedback,
   * authorised on the message, whose id is not known before it is sent, so
   * on any message of this account and region.
   */
  grantFeedback(role: IRole): Policy {
    const messages = Stack.of(this).formatArn({ service: 'sms-voice', resource: 'message', resourceName: '*', arnFormat: ArnFormat.SLASH_RESOURCE_NAME });
    const policy = new Policy(role, 'EndUserMessagingFeedback', {
      roles: [role],
      statements: [new PolicyStatement({ sid: 'PutMessageFeedbackOnOurMessages', actions: ['sms-voice:PutMessageFeedback'], resources: [messages] })],
    });
    Validations.of(policy).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:sms-voice:<AWS::Region>:<AWS::AccountId>:message/*]',
      reason:
        'sms-voice:PutMessageFeedback is authorised on the message, and a message id exists only once End User Messaging has ' +
        'accepted the message, so no policy can name it beforehand: the wildcard stands for the message id alone, in this ' +
        'account and region, for this one action.',
    });
    return policy;
  }
}

/** Whether a country is allowed: every one when no list is given; else the listed ones, each of which must be a country of the rule set. */
function allowedCountriesOf(countries: readonly string[] | undefined): (country: string) => boolean {
  if (countries === undefined) return () => true;
  if (countries.length === 0) throw new SmsProtectionError('The SMS protect configuration needs at least one allowed country; leave the list unset to allow every one.');
  const unknown = countries.filter((country) => !SMS_COUNTRIES.includes(country));
  if (unknown.length > 0) {
    throw new SmsProtectionError(
      `End User Messaging's protect configuration has no rule for ${unknown.join(', ')}: SMS can only be allowed to the ` +
        'ISO 3166-1 alpha-2 countries it knows (lib/sms-countries.generated.ts).',
    );
  }
  const allowed = new Set(countries);
  return (country) => allowed.has(country);
}
