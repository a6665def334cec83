// Clients write models with or without the `models/` prefix; the fake keys all per-model
// configuration and filtering by the bare name so both spellings meet.

export function bareModelName(model: string): string {
  return model.startsWith("models/") ? model.slice("models/".length) : model;
}

/** Models whose name says so are unknown to the fake, so tests can provoke Google's 404. */
export function isNonexistentModel(model: string): boolean {
  return model.includes("nonexistent");
}
