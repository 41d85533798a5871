import { DynamoCodeIssuer } from '../adapters/dynamodb/code-issuer';
import { SnsSmsSender } from '../adapters/sms/sns-sms-sender';
import { cachedSecret } from '../adapters/secrets/cached-secret';
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
import { documentClient } from './wiring';

// Cold start: configuration is read (and checked) now; secrets start loading now.
const issuer = new DynamoCodeIssuer(documentClient(), readCodesTableName());
const sms = new SnsSmsSender(readSmsConfig());
const codeSettings = readCodeSettings();
const sendLimits = readSendLimits();
const signatureSettings = readSignatureSettings();
const pepper = cachedSecret(readPepperSource());
const domainSecrets = cachedSecret(readUserDomainSecretsSource());

/** Lambda entry point: POST /v2/sms/enduserapi/v2/sendPhoneSmsCode */
export const handler = createSendPhoneSmsCodeHandler(async () => {
  const [pepperValue, domainSecretsJson] = await Promise.all([pepper(), domainSecrets()]);
  return {
    issuer,
    sms,
    clock: systemClock,
    codeRules: { ...codeSettings, pepper: pepperValue },
    sendLimits,
    signatureRules: signatureRules(signatureSettings, domainSecretsJson),
  };
});
