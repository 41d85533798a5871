import { LOCALES, type Locale } from '../domain/messages';

/**
 * The language `msg` is written in: the supported language the request's
 * Accept-Language ranks highest (`zh-CN,zh;q=0.9,en;q=0.8` -> zh), else English.
 */
export function localeOf(headers: Record<string, string | undefined> | undefined): Locale {
  const header = headers?.['accept-language'];
  if (!header) return 'en';
  let best: { locale: Locale; quality: number } | undefined;
  for (const part of header.split(',').slice(0, 20)) {
    const [tag = '', ...params] = part.trim().split(';');
    const language = tag.trim().toLowerCase().split('-')[0];
    const locale = LOCALES.find((supported) => supported === language);
    if (!locale) continue;
    const q = params.find((param) => /^\s*q\s*=/i.test(param));
    const quality = q === undefined ? 1 : Number(q.split('=')[1]?.trim() || 'NaN');
    // A malformed weight disqualifies its entry rather than winning it the first place.
    if (quality > 0 && quality <= 1 && (!best || quality > best.quality)) best = { locale, quality };
  }
  return best?.locale ?? 'en';
}
