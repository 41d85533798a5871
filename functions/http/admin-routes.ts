/**
 * The admin interface's routes, keyed as API Gateway keys them (method and
 * path with `{uid}`). Pure data: the stack declares them, the local server
 * matches them and the admin handler dispatches on them, from this one list.
 */
export const ADMIN_ROUTE_KEYS = {
  registerUser: 'PUT /admin/v1/users/{uid}',
  getUser: 'GET /admin/v1/users/{uid}',
  linkPhone: 'PUT /admin/v1/users/{uid}/phone',
  eraseUser: 'DELETE /admin/v1/users/{uid}',
} as const;

export type AdminRouteName = keyof typeof ADMIN_ROUTE_KEYS;
