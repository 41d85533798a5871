import { InvalidParameter } from './errors';

/**
 * The one uid rule of this service, for the tokens, the admin routes, the
 * local server and the import alike: every user a token lets in can be
 * addressed, and erased, through the admin interface.
 */
export const USER_ID_RULE = '1 to 128 characters of [A-Za-z0-9._:@-], other than "." and ".."';

const USER_ID_CHARACTERS = /^[A-Za-z0-9._:@-]{1,128}$/;

/** True for a uid that follows USER_ID_RULE. */
export function isUserId(value: unknown): value is string {
  // "." and ".." are path steps: a client's URL parser resolves them away, so no admin path can name them.
  return typeof value === 'string' && USER_ID_CHARACTERS.test(value) && value !== '.' && value !== '..';
}

/** The uid of an admin route, or 400 "Invalid parameter: uid". */
export function parseUserId(raw: string | undefined): string {
  if (!isUserId(raw)) throw new InvalidParameter('uid');
  return raw;
}
