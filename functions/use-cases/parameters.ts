/** A query value that counts as given: present and not blank. */
export const given = (value: string | undefined): string | undefined =>
  value !== undefined && value.trim() !== '' ? value : undefined;
