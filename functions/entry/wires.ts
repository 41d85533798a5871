import { DynamoCodeIssuer } from '../adapters/dynamodb/code-issuer';
import {
  readCodeSettings,
  readCodesTableName,
  readErasedUserRetentionDays,
  readSendLimits,
  readSignatureSettings,
  readUserDomainSecretsSource,
  readUserProvisioning,
  signatureRules,
} from '../config';
import {
  createAdminHandler,
  createDeletePhoneRelationHandler,
  createRelationPhoneHandler,
  createSendPhoneSmsCodeHandler,
  createUserInfoHandler,
  ready,
  type HttpHandler,
} from '../http/handlers';
import type { FunctionName, HttpFunctionName } from '../http/routes';
import { wireLinkReconciler, type ReconcilerHandler } from './link-reconciler-wire';
import { codeRules, phoneLinks, secret, smsSender, tokenVerifier, users, verificationCodes, type Wiring } from './wiring';

/**
 * Each HTTP function's handler over its dependencies (wiring.ts). A Lambda
 * entry imports its function's wire by name, so that its bundle holds only
 * the adapters and use cases that function runs.
 */

// The middy handlers type their context with what the middlewares add; Lambda hands in a plain one.
const asHttpHandler = (handler: unknown): HttpHandler => handler as HttpHandler;

export function wireSendPhoneSmsCode(w: Wiring): HttpHandler {
  const issuer = new DynamoCodeIssuer(w.db, readCodesTableName(w.env));
  const sms = smsSender(w);
  const rules = codeRules(w);
  const sendLimits = readSendLimits(w.env);
  const signatureSettings = readSignatureSettings(w.env);
  const domainSecrets = secret(w, readUserDomainSecretsSource(w.env));
  return asHttpHandler(
    createSendPhoneSmsCodeHandler(async () => {
      const [codeRulesNow, domainSecretsJson] = await Promise.all([rules(), domainSecrets()]);
      return { issuer, sms, clock: w.clock, codeRules: codeRulesNow, sendLimits, signatureRules: signatureRules(signatureSettings, domainSecretsJson) };
    }),
  );
}

export function wireRelationPhone(w: Wiring): HttpHandler {
  const links = phoneLinks(w, { codes: true });
  const codes = verificationCodes(w);
  const rules = codeRules(w);
  const provisioning = readUserProvisioning(w.env);
  return asHttpHandler(
    createRelationPhoneHandler(tokenVerifier(w), async () => ({ links, codes, clock: w.clock, codeRules: await rules(), provisioning })),
  );
}

export function wireUserInfo(w: Wiring): HttpHandler {
  return asHttpHandler(createUserInfoHandler(tokenVerifier(w), ready({ users: users(w), provisioning: readUserProvisioning(w.env) })));
}

export function wireDeletePhoneRelation(w: Wiring): HttpHandler {
  const deps = { users: users(w), links: phoneLinks(w, { codes: true }), codes: verificationCodes(w) };
  const rules = codeRules(w);
  const provisioning = readUserProvisioning(w.env);
  return asHttpHandler(
    createDeletePhoneRelationHandler(tokenVerifier(w), async () => ({ ...deps, clock: w.clock, codeRules: await rules(), provisioning })),
  );
}

/** No codes, no secret, no token: IAM authenticates the caller. */
export function wireAdmin(w: Wiring): HttpHandler {
  return asHttpHandler(
    createAdminHandler(
      ready({
        users: users(w),
        links: phoneLinks(w, { codes: false }),
        clock: w.clock,
        phoneRules: { domesticCallingCode: readCodeSettings(w.env).domesticCallingCode },
        erasedUserRetentionDays: readErasedUserRetentionDays(w.env),
      }),
    ),
  );
}

type Wire<F extends FunctionName> = (w: Wiring) => F extends HttpFunctionName ? HttpHandler : ReconcilerHandler;

/**
 * Every function's wire, by its name in the route table (functions/http/routes.ts):
 * the compiler asks for one per function there. The local app runs them all.
 */
export const WIRES: { readonly [F in FunctionName]: Wire<F> } = {
  sendPhoneSmsCode: wireSendPhoneSmsCode,
  relationPhone: wireRelationPhone,
  userInfo: wireUserInfo,
  deletePhoneRelation: wireDeletePhoneRelation,
  admin: wireAdmin,
  linkReconciler: wireLinkReconciler,
};
