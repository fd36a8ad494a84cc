// System: each component's readiness, the server's backends, the live stages' rates and lag.

import type { AuditEntry, Readiness, StreamStatus, SystemInfo } from "../api/types";
import { useSession } from "../auth/session";
import { DataTable } from "../components/DataTable";
import { Loading, ProblemNote } from "../components/Problem";
import { integer, number, when } from "../lib/format";
import { useApi } from "../lib/useApi";
import { useEffect, useState } from "react";
import { problemOf } from "../api/client";

function useReadiness(every: number) {
  // /health/ready answers 503 with the same body when a component is down: show it.
  const [ready, setReady] = useState<Readiness>();
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let current = true;
    fetch("/health/ready", { headers: { Accept: "application/json" } })
      .then(async (r) => {
        if (r.status !== 200 && r.status !== 503) throw await problemOf(r);
        return (await r.json()) as Readiness;
      })
      .then((body) => { if (current) setReady(body); })
      .catch(() => { if (current) setReady(undefined); });
    const timer = window.setTimeout(() => { setTick((n) => n + 1); }, every);
    return () => { current = false; window.clearTimeout(timer); };
  }, [tick, every]);
  return ready;
}

export default function System() {
  const ready = useReadiness(5000);
  const info = useApi<SystemInfo>("/api/v1/system");
  const stream = useApi<StreamStatus>("/api/v1/stream/status", 3000);
  const isAdmin = useSession().me?.role === "admin";
  const checks = Object.entries(ready?.checks ?? {}) as [string, { status: string; latency_ms: number; detail: string }][];
  return (
    <section aria-labelledby="system-title">
      <h1 id="system-title">System</h1>
      <ProblemNote error={info.error ?? stream.error} />
      {!ready && <Loading what="readiness" />}
      {ready && (
        <DataTable
          caption={`Readiness: ${ready.status}`}
          rows={checks}
          rowKey={([name]) => name}
          columns={[
            { key: "name", label: "Component", render: ([name]) => name },
            { key: "status", label: "Status", render: ([, c]) => <span className={`status ${c.status}`}>{c.status}</span> },
            { key: "latency", label: "Latency (ms)", numeric: true, render: ([, c]) => number(c.latency_ms, 1) },
            { key: "detail", label: "Detail", render: ([, c]) => c.detail },
          ]}
        />
      )}
      {info.data && (
        <DataTable
          caption={`CIFT ${info.data.version} (${info.data.environment}, Python ${info.data.python}), up since ${when(info.data.started_at)} UTC`}
          rows={Object.entries(info.data.backends)}
          rowKey={([name]) => name}
          columns={[
            { key: "backend", label: "Backend", render: ([name]) => name },
            { key: "value", label: "In use", render: ([, value]) => value },
          ]}
        />
      )}
      {isAdmin && <RecentFailures />}
      {stream.data && (
        <DataTable
          caption={`Live stages on the ${stream.data.bus} bus`}
          rows={stream.data.stages}
          rowKey={(s) => s.stage}
          empty="No live stage has reported: start one with cift stream run."
          columns={[
            { key: "stage", label: "Stage", render: (s) => s.stage },
            { key: "rate", label: "Rows/s", numeric: true, render: (s) => number(s.rate, 1) },
            { key: "lag", label: "Consumer lag", numeric: true, render: (s) => integer(s.lag) },
            { key: "p99", label: "p99 latency (ms)", numeric: true, render: (s) => number(s.latency_p99_ms, 1) },
            { key: "last", label: "Last event (UTC)", render: (s) => when(s.last_event) },
            { key: "stale", label: "State", render: (s) => (s.stale ? "stale" : "live") },
          ]}
        />
      )}
    </section>
  );
}

function RecentFailures() {
  const audit = useApi<AuditEntry[]>("/api/v1/audit?limit=500", 10_000);
  const failures = (audit.data ?? []).filter((e) => e.outcome !== "success").slice(0, 50);
  return (
    <>
      <ProblemNote error={audit.error} />
      <DataTable
        caption="Recent failures and refusals (audit log)"
        rows={failures}
        rowKey={(e) => String(e.seq)}
        empty="None among the last 500 audited actions."
        columns={[
          { key: "at", label: "When (UTC)", render: (e) => when(e.occurred_at) },
          { key: "action", label: "Action", render: (e) => e.action },
          { key: "outcome", label: "Outcome", render: (e) => <span className="status error">{e.outcome}</span> },
          { key: "actor", label: "Actor", render: (e) => e.actor },
          { key: "target", label: "Target", render: (e) => [e.target_type, e.target_id].filter(Boolean).join(" ") },
          { key: "request", label: "Request", render: (e) => e.request_id ?? "" },
        ]}
      />
    </>
  );
}
