import { LOCALES, type Locale } from '../domain/messages';

type Headers = Record<string, string | undefined> | undefined;

/**
 * The language of `msg` and of the SMS: the platform apps' `X-Q-Language`
 * when it says anything (`zh`, `zh-CN`, Java's `zh_CN` -> zh; any other
 * language -> en), else the supported language Accept-Language ranks highest
 * (`zh-CN,zh;q=0.9,en;q=0.8` -> zh), else English.
 */
export function localeOf(headers: Headers): Locale {
  const appLanguage = headers?.['x-q-language']?.trim();
  if (appLanguage) return primaryLanguageOf(appLanguage) === 'zh' ? 'zh' : 'en';
  return acceptedLocaleOf(headers?.['accept-language']);
}

/** `zh-CN`, `zh_CN`, `ZH` -> `zh`: the tag's first subtag, lower-cased. */
const primaryLanguageOf = (tag: string): string => tag.trim().toLowerCase().split(/[-_;,\s]/)[0] ?? '';

function acceptedLocaleOf(header: string | undefined): Locale {
  if (!header) return 'en';
  let best: { locale: Locale; quality: number } | undefined;
  for (const part of header.split(',').slice(0, 20)) {
    const [tag = '', ...params] = part.trim().split(';');
    const language = primaryLanguageOf(tag);
    const locale = LOCALES.find((supported) => supported === language);
    if (!locale) continue;
    const q = params.find((param) => /^\s*q\s*=/i.test(param));
    const quality = q === undefined ? 1 : Number(q.split('=')[1]?.trim() || 'NaN');
    // A malformed weight disqualifies its entry rather than winning it the first place.
    if (quality > 0 && quality <= 1 && (!best || quality > best.quality)) best = { locale, quality };
  }
  return best?.locale ?? 'en';
}
