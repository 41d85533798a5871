/**
 * Whether a valid token is enough for this service to know its user
 * (`on-first-use`), or the user must have been registered through the admin
 * interface or the import first (`registered`).
 */
export const USER_PROVISIONING_MODES = ['on-first-use', 'registered'] as const;

export type UserProvisioning = (typeof USER_PROVISIONING_MODES)[number];
