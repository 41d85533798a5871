import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { JoseTokenVerifier } from '../adapters/auth/jose-token-verifier';
import { createDocumentClient } from '../adapters/dynamodb/document-client';
import { OrderedPhoneLinks } from '../adapters/dynamodb/ordered-phone-links';
import type { PhoneLinkTables } from '../adapters/dynamodb/phone-links-shared';
import { TransactionalPhoneLinks } from '../adapters/dynamodb/transactional-phone-links';
import { readAuthConfig, readDynamoDbEndpoint, readPhoneLinksMode, type PhoneLinksMode } from '../config';
import type { PhoneLinks } from '../ports';

/**
 * What the Lambda entry points share. Each entry builds its clients and
 * adapters at module scope, once per container (the cold start), so a
 * missing setting fails at once and the clients are reused by every request.
 */
export const documentClient = () => createDocumentClient(readDynamoDbEndpoint());

export const tokenVerifier = (): JoseTokenVerifier => new JoseTokenVerifier(readAuthConfig());

/** The phone links PHONE_LINKS_MODE names: one transaction per link, or ordered writes for a multi-Region table. */
export const phoneLinks = (db: DynamoDBDocumentClient, tables: PhoneLinkTables, mode: PhoneLinksMode = readPhoneLinksMode()): PhoneLinks =>
  mode === 'ordered-writes' ? new OrderedPhoneLinks(db, tables) : new TransactionalPhoneLinks(db, tables);
