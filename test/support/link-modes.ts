import { PHONE_LINKS_MODES, type PhoneLinksMode } from '../../functions/tunables';

/**
 * Every way of writing a link (one transaction, or ordered writes for
 * multi-Region tables), read from the config that chooses between them.
 * The suites about links run once in each, `describe.each(LINK_MODES)('... (%s)', (phoneLinks) => ...)`,
 * so a rule kept in one mode and broken in the other fails a test, and a
 * new mode is tested wherever links are.
 */
export const LINK_MODES: readonly PhoneLinksMode[] = PHONE_LINKS_MODES;
