// Models: registered models with their versions' metrics and aliases, promotion, and
// the training jobs started through the API.

import { useState } from "react";
import { api } from "../api/client";
import type { ApiError } from "../api/client";
import type { FeatureImportance, ModelVersion, RegisteredModel, TrainingJob } from "../api/types";
import { useSession } from "../auth/session";
import { DataTable } from "../components/DataTable";
import { Loading, ProblemNote } from "../components/Problem";
import { number, percent, when } from "../lib/format";
import { asApiError, useApi } from "../lib/useApi";

export default function Models() {
  const models = useApi<RegisteredModel[]>("/api/v1/ml/models");
  const jobs = useApi<TrainingJob[]>("/api/v1/ml/jobs", 5000);
  const [chosen, setChosen] = useState<string>();
  const name = chosen ?? models.data?.[0]?.name;
  return (
    <section aria-labelledby="models-title">
      <h1 id="models-title">Models</h1>
      <ProblemNote error={models.error ?? jobs.error} />
      {models.loading && !models.data && <Loading what="the models" />}
      <DataTable
        caption="Registered models"
        rows={models.data ?? []}
        rowKey={(m) => m.name}
        empty="No model is registered yet: cift ml train, or cift demo."
        columns={[
          {
            key: "name",
            label: "Model",
            render: (m) => (
              <button type="button" className="link" aria-pressed={m.name === name} onClick={() => { setChosen(m.name); }}>
                {m.name}
              </button>
            ),
          },
          { key: "latest", label: "Latest version", numeric: true, render: (m) => m.latest_version ?? "—" },
          { key: "aliases", label: "Aliases", render: (m) => Object.entries(m.aliases).map(([a, v]) => `${a}=v${String(v)}`).join(", ") },
          { key: "about", label: "Description", render: (m) => m.description },
        ]}
      />
      {name && <Versions name={name} />}
      {name && <Importance name={name} />}
      <DataTable
        caption="Training jobs"
        rows={jobs.data ?? []}
        rowKey={(j) => j.id}
        empty="No job has been started through the API."
        columns={[
          { key: "kind", label: "Kind", render: (j) => j.kind },
          { key: "status", label: "Status", render: (j) => <span className={`status ${j.status}`}>{j.status}</span> },
          { key: "stage", label: "Stage", render: (j) => j.stage ?? "—" },
          { key: "progress", label: "Progress", numeric: true, render: (j) => percent(j.progress, 0) },
          { key: "created", label: "Created (UTC)", render: (j) => when(j.created_at) },
          { key: "error", label: "Error", render: (j) => j.error ?? "" },
        ]}
      />
    </section>
  );
}

function Versions({ name }: { name: string }) {
  const versions = useApi<ModelVersion[]>(`/api/v1/ml/models/${encodeURIComponent(name)}`);
  const { canTrade } = useSession();
  const [error, setError] = useState<ApiError>();
  const promote = (version: number, alias: string) => {
    api(`/api/v1/ml/models/${encodeURIComponent(name)}/promote`, { method: "POST", body: { version, alias } })
      .then(versions.reload)
      .catch((caught: unknown) => { setError(asApiError(caught)); });
  };
  const metricNames = [...new Set((versions.data ?? []).flatMap((v) => Object.keys(v.metrics)))].slice(0, 6);
  return (
    <>
      <ProblemNote error={versions.error ?? error} />
      <DataTable
        caption={`Versions of ${name}: cross-validation metrics`}
        rows={versions.data ?? []}
        rowKey={(v) => String(v.version)}
        columns={[
          { key: "version", label: "Version", numeric: true, render: (v) => v.version },
          { key: "aliases", label: "Aliases", render: (v) => v.aliases.join(", ") },
          { key: "created", label: "Created (UTC)", render: (v) => when(new Date(v.created_ms).toISOString()) },
          ...metricNames.map((m) => ({
            key: m,
            label: m.replaceAll("_", " "),
            numeric: true,
            render: (v: ModelVersion) => number(v.metrics[m], 4),
          })),
          {
            key: "promote",
            label: "Promote",
            render: (v: ModelVersion) =>
              canTrade ? (
                <span className="actions">
                  <button type="button" onClick={() => { promote(v.version, "champion"); }}>champion</button>
                  <button type="button" onClick={() => { promote(v.version, "challenger"); }}>challenger</button>
                </span>
              ) : null,
          },
        ]}
      />
    </>
  );
}

/** The newest version's feature importance, by gain, as bars. */
function Importance({ name }: { name: string }) {
  const versions = useApi<ModelVersion[]>(`/api/v1/ml/models/${encodeURIComponent(name)}`);
  const newest = versions.data?.[0]?.version;
  const weights = useApi<FeatureImportance[]>(
    newest ? `/api/v1/ml/models/${encodeURIComponent(name)}/versions/${String(newest)}/importance` : null,
  );
  const rows = weights.data ?? [];
  const top = Math.max(...rows.map((w) => w.gain ?? 0), 0) || 1;
  return (
    <>
      <ProblemNote error={weights.error} />
      <DataTable
        caption={`Feature importance of ${name} v${String(newest ?? "")}, averaged over the folds`}
        rows={rows}
        rowKey={(w) => w.feature}
        empty="This version's training logged no importance."
        columns={[
          { key: "feature", label: "Feature", render: (w) => w.feature },
          {
            key: "bar",
            label: "Gain (relative)",
            render: (w) => (
              <span className="bar" role="meter" aria-label={`${w.feature} gain`} aria-valuemin={0} aria-valuemax={top} aria-valuenow={w.gain ?? 0}>
                <span style={{ width: `${String((100 * (w.gain ?? 0)) / top)}%` }} />
              </span>
            ),
          },
          { key: "gain", label: "Gain", numeric: true, render: (w) => number(w.gain, 4) },
          { key: "perm", label: "Permutation", numeric: true, render: (w) => number(w.permutation, 4) },
        ]}
      />
    </>
  );
}
