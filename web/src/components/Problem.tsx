// An API failure shown as the problem's title and detail: never a blank page.

import type { ApiError } from "../api/client";

export function ProblemNote({ error }: { error: ApiError | undefined }) {
  if (!error) return null;
  return (
    <div className="problem" role="alert">
      <strong>{error.title}</strong>
      {error.detail && <span> {error.detail}</span>}
      {error.requestId && <small> (request {error.requestId})</small>}
    </div>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p className="muted" role="status">
      Loading {what}…
    </p>
  );
}
