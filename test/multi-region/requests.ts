/**
 * Requests as a client-level middleware at the `initialize` step sees them
 * (the document client's or the plain client's input, before
 * serialization): their operation, and their table names swapped, for the
 * simulations that send a call to another table than the one it names.
 */

export type Body = Record<string, unknown>;

/** The DynamoDB operation of a command, whether the document client's (`PutCommand`) or the client's (`PutItemCommand`). */
const DOCUMENT_OPERATIONS: Record<string, string> = {
  Put: 'PutItem',
  Update: 'UpdateItem',
  Delete: 'DeleteItem',
  Get: 'GetItem',
  BatchGet: 'BatchGetItem',
  BatchWrite: 'BatchWriteItem',
  TransactGet: 'TransactGetItems',
  TransactWrite: 'TransactWriteItems',
};

export const operationOfCommand = (commandName: string | undefined): string => {
  const name = String(commandName).replace(/Command$/, '');
  return DOCUMENT_OPERATIONS[name] ?? name;
};

/** The input with each table name passed through `rename`: TableName, RequestItems and TransactItems. */
export function renameTables(input: Body, rename: (table: string) => string): Body {
  const out: Body = { ...input };
  if (typeof input.TableName === 'string') out.TableName = rename(input.TableName);
  if (input.RequestItems) {
    out.RequestItems = Object.fromEntries(Object.entries(input.RequestItems as Body).map(([table, request]) => [rename(table), request]));
  }
  if (Array.isArray(input.TransactItems)) {
    out.TransactItems = (input.TransactItems as Record<string, Body>[]).map((entry) =>
      Object.fromEntries(Object.entries(entry).map(([kind, action]) => [kind, typeof action.TableName === 'string' ? { ...action, TableName: rename(action.TableName) } : action])),
    );
  }
  return out;
}

/** The output's maps keyed by table name, renamed back. */
export function renameOutput(output: Body, rename: (table: string) => string): Body {
  const out: Body = { ...output };
  for (const field of ['Responses', 'UnprocessedKeys', 'UnprocessedItems']) {
    const byTable = output[field];
    if (byTable && typeof byTable === 'object' && !Array.isArray(byTable)) {
      out[field] = Object.fromEntries(Object.entries(byTable as Body).map(([table, value]) => [rename(table), value]));
    }
  }
  return out;
}
