import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PinpointSMSVoiceV2Client } from '@aws-sdk/client-pinpoint-sms-voice-v2';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SNSClient } from '@aws-sdk/client-sns';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { clientConfig, type ClientSettings } from './client-config';

/**
 * Every AWS SDK client the functions use is made here, from its service's
 * settings (client-config.ts). The adapters take theirs in their
 * constructor; the wiring (functions/entry/wiring.ts) makes each one once
 * per container and hands it to every adapter that needs it.
 */

/**
 * The SDK's document client over its DynamoDB client, as every adapter uses
 * it: plain JavaScript values in and out, undefined attributes dropped.
 * `endpoint` is set only locally and in tests, for DynamoDB Local, and
 * `settings` only by the local server (LOCAL_SERVER_DYNAMODB_SETTINGS).
 */
export function createDocumentClient(endpoint?: string, settings?: ClientSettings): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(new DynamoDBClient(clientConfig('dynamodb', { endpoint, settings })), {
    marshallOptions: { removeUndefinedValues: true },
  });
}

export const createSnsClient = (): SNSClient => new SNSClient(clientConfig('sns'));

export const createSecretsManagerClient = (): SecretsManagerClient => new SecretsManagerClient(clientConfig('secretsManager'));

/** End User Messaging SMS, for sending (never retried) or for message feedback (retried): one client each. */
export const createSmsVoiceClient = (use: 'smsVoice' | 'smsVoiceFeedback'): PinpointSMSVoiceV2Client =>
  new PinpointSMSVoiceV2Client(clientConfig(use));
