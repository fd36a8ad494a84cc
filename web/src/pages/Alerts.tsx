// Alerts: rules (create, disable or re-activate, delete) and where each firing was sent.

import { useState } from "react";
import { submitted, text } from "../lib/forms";
import type { Submit } from "../lib/forms";
import { api } from "../api/client";
import type { ApiError } from "../api/client";
import type { AlertOut, AlertSpec, Delivery } from "../api/types";
import { useSession } from "../auth/session";
import { DataTable } from "../components/DataTable";
import { Loading, ProblemNote } from "../components/Problem";
import { when } from "../lib/format";
import { asApiError, useApi } from "../lib/useApi";

/** A rule's condition in words: "price_above 190" or "rsi feature_below 30". */
export function describe(condition: Record<string, unknown>): string {
  const kind = typeof condition.kind === "string" ? condition.kind : "";
  const level = condition.price ?? condition.level;
  const subject = condition.feature ?? condition.stage ?? "";
  return [subject, kind.replaceAll("_", " "), level].filter((x) => x !== "" && x !== undefined).map(String).join(" ");
}

export default function Alerts() {
  const rules = useApi<AlertOut[]>("/api/v1/alerts", 5000);
  const deliveries = useApi<Delivery[]>("/api/v1/alert-deliveries?limit=100", 5000);
  const { canTrade } = useSession();
  const [error, setError] = useState<ApiError>();
  const change = (path: string, method: "PATCH" | "DELETE", body?: unknown) => {
    setError(undefined);
    api(path, { method, body })
      .then(rules.reload)
      .catch((caught: unknown) => { setError(asApiError(caught)); });
  };
  return (
    <section aria-labelledby="alerts-title">
      <h1 id="alerts-title">Alerts</h1>
      <ProblemNote error={error ?? rules.error ?? deliveries.error} />
      {rules.loading && !rules.data && <Loading what="your rules" />}
      <DataTable
        caption="Rules"
        rows={rules.data ?? []}
        rowKey={(r) => r.id}
        empty="No rule yet: add one below."
        columns={[
          { key: "name", label: "Name", render: (r) => r.name },
          { key: "symbol", label: "Symbol", render: (r) => r.symbol ?? "—" },
          { key: "condition", label: "Condition", render: (r) => describe(r.condition) },
          { key: "severity", label: "Severity", render: (r) => r.severity },
          { key: "status", label: "Status", render: (r) => <span className={`status ${r.status}`}>{r.status}</span> },
          { key: "fired", label: "Fired", numeric: true, render: (r) => r.trigger_count },
          { key: "last", label: "Last fired (UTC)", render: (r) => when(r.last_triggered_at) },
          {
            key: "actions",
            label: "Actions",
            render: (r) =>
              canTrade && (
                <span className="actions">
                  <button type="button" onClick={() => { change(`/api/v1/alerts/${r.id}`, "PATCH", { status: r.status === "disabled" ? "active" : "disabled" }); }}>
                    {r.status === "disabled" ? "Activate" : "Disable"}
                  </button>
                  <button type="button" aria-label={`Delete ${r.name}`} onClick={() => { change(`/api/v1/alerts/${r.id}`, "DELETE"); }}>
                    Delete
                  </button>
                </span>
              ),
          },
        ]}
      />
      {canTrade && <NewRule onCreated={rules.reload} />}
      <DataTable
        caption="Deliveries, newest first"
        rows={deliveries.data ?? []}
        rowKey={(d) => `${d.alert_id}-${d.fired_at}-${d.target}`}
        empty="Nothing has been sent yet."
        columns={[
          { key: "at", label: "Fired (UTC)", render: (d) => when(d.fired_at) },
          { key: "alert", label: "Rule", render: (d) => d.alert },
          { key: "channel", label: "Channel", render: (d) => d.channel },
          { key: "target", label: "To", render: (d) => d.target },
          { key: "status", label: "Status", render: (d) => <span className={`status ${d.status}`}>{d.status}</span> },
          { key: "attempts", label: "Attempts", numeric: true, render: (d) => d.attempts },
          { key: "error", label: "Error", render: (d) => d.error ?? "" },
        ]}
      />
    </section>
  );
}

function NewRule({ onCreated }: { onCreated: () => void }) {
  const [kind, setKind] = useState("price_above");
  const [error, setError] = useState<ApiError>();
  const price = kind.startsWith("price");
  const submit = (event: Submit) => {
    const form = submitted(event);
    const level = Number(text(form, "level"));
    const condition = price
      ? { kind, price: level }
      : { kind, feature: text(form, "feature"), level };
    const webhook = text(form, "webhook").trim();
    const body = {
      name: text(form, "name"),
      symbol: text(form, "symbol").trim().toUpperCase(),
      condition,
      channels: webhook ? [{ kind: "webhook", url: webhook }] : [],
    } as AlertSpec;
    setError(undefined);
    api("/api/v1/alerts", { method: "POST", body })
      .then(onCreated)
      .catch((caught: unknown) => { setError(asApiError(caught)); });
  };
  return (
    <form className="card toolbar" onSubmit={submit} aria-labelledby="new-rule">
      <h2 id="new-rule">New rule</h2>
      <label>
        Name
        <input name="name" required />
      </label>
      <label>
        Symbol
        <input name="symbol" required className="narrow" />
      </label>
      <label>
        When
        <select value={kind} onChange={(e) => { setKind(e.target.value); }}>
          <option value="price_above">price at or above</option>
          <option value="price_below">price at or below</option>
          <option value="feature_above">feature at or above</option>
          <option value="feature_below">feature at or below</option>
        </select>
      </label>
      {!price && (
        <label>
          Feature
          <input name="feature" required placeholder="rsi" className="narrow" />
        </label>
      )}
      <label>
        Level
        <input name="level" type="number" step="any" required className="narrow" />
      </label>
      <label>
        Webhook (optional)
        <input name="webhook" type="url" placeholder="https://hooks.example.com/cift" />
      </label>
      <button type="submit">Add rule</button>
      <ProblemNote error={error} />
    </form>
  );
}
