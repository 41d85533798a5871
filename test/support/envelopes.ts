/** The envelope of a refusal: its code and message, no data. */
export const refusalBody = (code: number, msg: string) => ({ code, msg, extMsg: '', data: null });

/** A refusal as the harness reads it: HTTP 200 and the envelope (docs/API.md, Conventions). */
export const refusal = (code: number, msg: string) => ({ status: 200, ...refusalBody(code, msg) });

/** The answers of a link and of an unlink that took effect. */
export const LINKED = { status: 200, code: 200, msg: 'Phone number linked successfully', extMsg: '', data: {} };
export const UNLINKED = { status: 200, code: 200, msg: 'Phone number unbound successfully', extMsg: '', data: {} };
