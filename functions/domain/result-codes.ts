/**
 * Every envelope code this service answers. The code is what app clients
 * branch on; the rule behind each one lives in the use case of its endpoint
 * (functions/use-cases/), its text in ./messages.ts.
 */
export const ResultCode = {
  Success: 200,
  InvalidParameter: 400,
  InternalError: 500,
  PhoneAlreadyRegistered: 5002,
  PhoneFormatIncorrect: 5019,
  PhoneRequired: 5021,
  UserDomainRequired: 5023,
  TokenVerificationFailed: 5032,
  UserDoesNotExist: 5033,
  SmsCodeFailed: 5037,
  SmsFrequencyLimited: 5058,
  SmsSendingFailed: 5059,
  CodeRequired: 5064,
  TokenRequired: 5106,
  InternationalCodeRequired: 5116,
  NoPhoneBound: 5384,
  SignatureVerificationFailed: 5420,
  SignatureRequired: 5550,
} as const;

export type ResultCode = (typeof ResultCode)[keyof typeof ResultCode];
