import { systemClock } from '../clock';
import { readCodeRules } from '../config';
import { createRelationPhoneHandler } from '../http/handlers';
import { dynamoAdapters, tokenVerifier } from './wiring';

/** Lambda entry point: POST /v2/enduser/enduserapi/relationPhone */
export const handler = createRelationPhoneHandler({
  ...dynamoAdapters(),
  tokens: tokenVerifier(),
  clock: systemClock,
  codeRules: readCodeRules(),
});
