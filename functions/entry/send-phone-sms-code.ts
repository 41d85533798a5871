import { DynamoVerificationCodes } from '../adapters/dynamodb/verification-codes';
import { resolveSecret } from '../adapters/secrets/secret-source';
import { SnsSmsSender } from '../adapters/sms/sns-sms-sender';
import { systemClock } from '../clock';
import {
  readCodeSettings,
  readCodesTableName,
  readPepperSource,
  readSendLimits,
  readSignatureSettings,
  readSmsConfig,
  readUserDomainSecretsSource,
  signatureRules,
} from '../config';
import { createSendPhoneSmsCodeHandler } from '../http/handlers';
import { documentClient, loadOnce } from './wiring';

// Cold start: configuration is read (and checked) now; secrets start loading now.
const codes = new DynamoVerificationCodes(documentClient(), readCodesTableName());
const sms = new SnsSmsSender(readSmsConfig());
const codeSettings = readCodeSettings();
const sendLimits = readSendLimits();
const signatureSettings = readSignatureSettings();
const pepperSource = readPepperSource();
const domainSecretsSource = readUserDomainSecretsSource();

/** Lambda entry point: POST /v2/sms/enduserapi/v2/sendPhoneSmsCode */
export const handler = createSendPhoneSmsCodeHandler(
  loadOnce(async () => {
    const [pepper, domainSecrets] = await Promise.all([resolveSecret(pepperSource), resolveSecret(domainSecretsSource)]);
    return {
      codes,
      sms,
      clock: systemClock,
      codeRules: { ...codeSettings, pepper },
      sendLimits,
      signatureRules: signatureRules(signatureSettings, domainSecrets),
    };
  }),
);
