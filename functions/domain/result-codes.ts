/**
 * Every envelope code this service answers, with its message. The code is
 * what app clients branch on; the rule behind each one lives in the use case
 * of its endpoint (see functions/use-cases/).
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

/** Messages of the codes whose text does not depend on the request. */
export const resultMessages: Record<Exclude<ResultCode, 200 | 400>, string> = {
  500: 'Internal server error',
  5002: 'Phone number already registered',
  5019: 'Phone number format incorrect',
  5021: 'Please enter phone number',
  5023: 'Please enter user domain',
  5032: 'Token verification failed',
  5033: 'User does not exist',
  5037: 'SMS verification code failed',
  5058: 'SMS sending exceeds frequency limit',
  5059: 'SMS sending exception',
  5064: 'Please enter verification code',
  5106: 'Please enter token',
  5116: 'Please enter international code',
  5384: 'No phone number bound',
  5420: 'Signature verification failed',
  5550: 'Please enter signature',
};
