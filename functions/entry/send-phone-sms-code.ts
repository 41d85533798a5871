import { SnsSmsSender } from '../adapters/sms/sns-sms-sender';
import { systemClock } from '../clock';
import { readCodeRules, readSendLimits, readSignatureRules, readSmsConfig } from '../config';
import { createSendPhoneSmsCodeHandler } from '../http/handlers';
import { dynamoAdapters } from './wiring';

/** Lambda entry point: POST /v2/sms/enduserapi/v2/sendPhoneSmsCode */
export const handler = createSendPhoneSmsCodeHandler({
  codes: dynamoAdapters().codes,
  sms: new SnsSmsSender(readSmsConfig()),
  clock: systemClock,
  codeRules: readCodeRules(),
  sendLimits: readSendLimits(),
  signatureRules: readSignatureRules(),
});
