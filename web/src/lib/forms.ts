// Reading submitted forms: every field as trimmed text ("" when absent).

import type { SubmitEvent } from "react";

export type Submit = SubmitEvent<HTMLFormElement>;

export function text(form: FormData, name: string): string {
  const value = form.get(name);
  return typeof value === "string" ? value.trim() : "";
}

/** The fields of a submitted form, with the browser's own submission stopped. */
export function submitted(event: Submit): FormData {
  event.preventDefault();
  return new FormData(event.currentTarget);
}
