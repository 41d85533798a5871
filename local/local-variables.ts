/**
 * The variables only `npm start` reads (local/start.ts), beside the
 * functions' own (functions/tunables.ts): `npm start -- --help` lists both,
 * and README.md's "Configuration" is checked against both
 * (test/unit/tunables-docs.test.ts).
 */
export interface LocalVariable {
  readonly name: string;
  /** The value when unset, where there is one. */
  readonly default?: string;
  /** What unset means, where there is no value. */
  readonly unset?: string;
  readonly meaning: string;
}

export const DEFAULT_PORT = 3000;
export const DEFAULT_USER_DOMAIN = 'local.phonelink';
export const DEFAULT_DATA_DIR = '.local-data';

export const LOCAL_VARIABLES = {
  port: { name: 'PORT', default: String(DEFAULT_PORT), meaning: 'port on 127.0.0.1 (0 = any free one)' },
  userDomain: { name: 'USER_DOMAIN', default: DEFAULT_USER_DOMAIN, meaning: 'the user domain served' },
  userDomainSecret: { name: 'USER_DOMAIN_SECRET', unset: 'random', meaning: 'its secret (a new random one each start, printed)' },
  dataDir: {
    name: 'LOCAL_DATA_DIR',
    unset: 'in-memory',
    meaning: `keep the data in this directory (--persist keeps it in ${DEFAULT_DATA_DIR}/); unset, it is gone on exit`,
  },
} as const satisfies Record<string, LocalVariable>;
