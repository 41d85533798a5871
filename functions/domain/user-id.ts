import { InvalidParameter } from './errors';

/** A uid the admin interface takes: 1 to 128 characters of `[A-Za-z0-9._:@-]`. */
export const USER_ID_PATTERN = /^[A-Za-z0-9._:@-]{1,128}$/;

/** The uid of an admin route, or 400 "Invalid parameter: uid". */
export function parseUserId(raw: string | undefined): string {
  if (raw === undefined || !USER_ID_PATTERN.test(raw)) throw new InvalidParameter('uid');
  return raw;
}
