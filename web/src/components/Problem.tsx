// An API failure shown as the problem's title and detail: never a blank page.

import type { ApiError } from "../api/client";
import { percent } from "../lib/format";

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

/** A job's state and, while it is queued or running, how far it got. */
export function JobProgress({ status, progress }: { status: string; progress: number }) {
  if (status !== "queued" && status !== "running") {
    return <span className={`status ${status}`}>{status}</span>;
  }
  return (
    <span>
      {status} <progress max={1} value={progress} aria-label="progress" /> {percent(progress, 0)}
    </span>
  );
}
