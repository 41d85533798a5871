import { WIRES } from '../../functions/entry/wires';
import { createWiring } from '../../functions/entry/wiring';
import { FUNCTION_NAMES, type FunctionName } from '../../functions/http/routes';

/** What every function may be given (lib/phone-link-stack.ts gives each only its part); nothing is called. */
const SETTINGS = {
  DYNAMODB_ENDPOINT: 'http://127.0.0.1:9',
  CODES_TABLE_NAME: 'codes',
  USERS_TABLE_NAME: 'users',
  CODE_PEPPER: 'pepper',
  USER_DOMAIN_SECRETS: JSON.stringify({ 'test.phonelink': 'secret' }),
  JWKS_URL: 'https://login.example.com/.well-known/jwks.json',
};

/** The tables the stack binds to each function (test/cdk/phone-link-stack.test.ts checks the stack's side). */
const TABLES: Record<FunctionName, readonly string[]> = {
  sendPhoneSmsCode: ['CODES_TABLE_NAME'],
  relationPhone: ['CODES_TABLE_NAME', 'USERS_TABLE_NAME'],
  userInfo: ['USERS_TABLE_NAME'],
  deletePhoneRelation: ['CODES_TABLE_NAME', 'USERS_TABLE_NAME'],
  admin: ['USERS_TABLE_NAME'],
  linkReconciler: ['USERS_TABLE_NAME'],
};

const wire = (name: FunctionName, env: Record<string, string>) => WIRES[name](createWiring({ env }));

describe('wiring', () => {
  it.each(FUNCTION_NAMES)('%s: wired at once from its settings into a handler', (name) => {
    expect(typeof wire(name, SETTINGS)).toBe('function');
  });

  it.each(FUNCTION_NAMES)('%s: reads the names of its own tables, and of no other', (name) => {
    const missed = (table: string) => {
      try {
        wire(name, Object.fromEntries(Object.entries(SETTINGS).filter(([variable]) => variable !== table)));
        return undefined;
      } catch (error) {
        return error instanceof Error ? error.message : String(error);
      }
    };
    const tables = ['CODES_TABLE_NAME', 'USERS_TABLE_NAME'];
    expect(tables.map(missed)).toEqual(tables.map((table) => (TABLES[name].includes(table) ? `Missing environment variable ${table}` : undefined)));
  });

  it('checks the settings as it wires, as a cold start does', () => {
    expect(() => wire('sendPhoneSmsCode', { ...SETTINGS, SMS_MAX_PER_MINUTE: 'many' })).toThrow(/SMS_MAX_PER_MINUTE/);
    expect(() => wire('relationPhone', { ...SETTINGS, JWKS_URL: '' })).toThrow(/JWKS_URL/);
    expect(() => wire('admin', { ...SETTINGS, PHONE_LINKS_MODE: 'sometimes' })).toThrow(/PHONE_LINKS_MODE/);
  });
});
