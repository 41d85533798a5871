import { DynamoUsers } from '../adapters/dynamodb/users';
import { systemClock } from '../clock';
import { readCodeSettings, readErasedUserRetentionDays, readUsersTableName } from '../config';
import { createAdminHandler, ready } from '../http/handlers';
import { documentClient, phoneLinks } from './wiring';

// Cold start: configuration is read (and checked) now. Only the users table: the admin routes consume no codes.
const db = documentClient();
const usersTableName = readUsersTableName();

/** Lambda entry point: the four /admin/v1/users/{uid} routes, behind IAM authorization. */
export const handler = createAdminHandler(
  ready({
    users: new DynamoUsers(db, usersTableName),
    links: phoneLinks(db, { usersTableName, codesTableName: undefined }),
    clock: systemClock,
    phoneRules: { domesticCallingCode: readCodeSettings().domesticCallingCode },
    erasedUserRetentionDays: readErasedUserRetentionDays(),
  }),
);
