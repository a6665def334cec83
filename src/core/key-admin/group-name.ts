// Names of project groups given through the admin API (POST /api/keys, the group routes).
// Narrower than API_KEYS, which takes whatever precedes a key's colon: a name typed into
// a form or a URL should be one that reads the same everywhere (no spaces, separators or
// colons that would split `group:key`), while still allowing a project's own name in any
// script (`项目-a`).

export const MAX_GROUP_NAME_LENGTH = 64;
const GROUP_NAME = /^[\p{L}\p{N}._-]+$/u;

export const GROUP_NAME_RULE = `1 to ${MAX_GROUP_NAME_LENGTH} letters, digits, ".", "_" or "-" (e.g. "project-a")`;

/** Why `name` cannot be a group name, or null when it can. */
export function groupNameProblem(name: string): string | null {
  if ([...name].length > MAX_GROUP_NAME_LENGTH || name === "" || !GROUP_NAME.test(name)) return `a group name must be ${GROUP_NAME_RULE}`;
  return null;
}
