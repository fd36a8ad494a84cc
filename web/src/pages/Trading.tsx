// Trading: an account's cash, positions and P&L, its orders and fills as they change,
// orders placed and cancelled by hand, and the kill switch behind a confirmation.

import { useRef, useState } from "react";
import { submitted, text } from "../lib/forms";
import type { Submit } from "../lib/forms";
import { api, query } from "../api/client";
import type { ApiError } from "../api/client";
import type { Account, Fill, Order, OrderRequest, Positions } from "../api/types";
import { useSession } from "../auth/session";
import { DataTable } from "../components/DataTable";
import { Loading, ProblemNote } from "../components/Problem";
import { number, side, when } from "../lib/format";
import { asApiError, useApi } from "../lib/useApi";

const LIVE_MS = 2000;
const OPEN = new Set(["new", "submitted", "accepted", "partially_filled", "pending_cancel", "pending_replace"]);

export default function Trading() {
  const accounts = useApi<Account[]>("/api/v1/accounts");
  const [chosen, setChosen] = useState<string>();
  const account = accounts.data?.find((a) => a.id === chosen) ?? accounts.data?.[0];
  const { canTrade } = useSession();
  if (accounts.loading && !accounts.data) return <Loading what="your accounts" />;
  return (
    <section aria-labelledby="trading-title">
      <h1 id="trading-title">Trading</h1>
      <ProblemNote error={accounts.error} />
      {accounts.data?.length === 0 && (
        <p>No trading account yet{canTrade ? ": open a paper one below." : "."}</p>
      )}
      {account && (
        <div className="toolbar">
          <label>
            Account
            <select value={account.id} onChange={(e) => { setChosen(e.target.value); }}>
              {accounts.data?.map((a) => (
                <option key={a.id} value={a.id}>
                  {a.name} ({a.broker}, {a.mode})
                </option>
              ))}
            </select>
          </label>
        </div>
      )}
      {account && <AccountView account={account} canTrade={canTrade} />}
      {canTrade && <OpenAccount onOpened={accounts.reload} />}
    </section>
  );
}

function AccountView({ account, canTrade }: { account: Account; canTrade: boolean }) {
  const base = `/api/v1/trading/accounts/${account.id}`;
  const positions = useApi<Positions>(`${base}/positions`, LIVE_MS);
  const orders = useApi<Order[]>(`${base}/orders`, LIVE_MS);
  const fills = useApi<Fill[]>(`${base}/fills`, LIVE_MS);
  const [error, setError] = useState<ApiError>();
  const act = (path: string, body?: unknown) => {
    setError(undefined);
    api(path, { method: "POST", body })
      .then(() => { orders.reload(); positions.reload(); })
      .catch((caught: unknown) => { setError(asApiError(caught)); });
  };
  return (
    <>
      <ProblemNote error={error ?? positions.error ?? orders.error ?? fills.error} />
      <p className="figures">
        <span>Cash <strong>{number(positions.data?.cash)}</strong></span>
        <span>Initial <strong>{number(account.initial_cash)}</strong></span>
        <span>{account.is_active ? "active" : "inactive"}</span>
      </p>
      <DataTable
        caption="Positions"
        rows={positions.data?.positions ?? []}
        rowKey={(p) => p.symbol}
        empty="No position."
        columns={[
          { key: "symbol", label: "Symbol", render: (p) => p.symbol },
          { key: "qty", label: "Quantity", numeric: true, render: (p) => number(p.quantity, 0) },
          { key: "avg", label: "Average price", numeric: true, render: (p) => number(p.average_price) },
          { key: "last", label: "Last", numeric: true, render: (p) => number(p.last_price) },
          { key: "value", label: "Market value", numeric: true, render: (p) => number(p.market_value) },
          { key: "upnl", label: "Unrealized P&L", numeric: true, render: (p) => number(p.unrealized_pnl) },
          { key: "rpnl", label: "Realized P&L", numeric: true, render: (p) => number(p.realized_pnl) },
        ]}
      />
      {canTrade && <PlaceOrder onPlace={(body) => { act(`${base}/orders`, body); }} />}
      <DataTable
        caption="Orders, newest first"
        rows={orders.data ?? []}
        rowKey={(o) => o.id}
        limit={200}
        columns={[
          { key: "created", label: "Created (UTC)", render: (o) => when(o.created_at) },
          { key: "symbol", label: "Symbol", render: (o) => o.symbol },
          { key: "side", label: "Side", render: (o) => side(o.side) },
          { key: "type", label: "Type", render: (o) => o.order_type + (o.limit_price ? ` ${o.limit_price}` : "") },
          { key: "qty", label: "Quantity", numeric: true, render: (o) => number(o.quantity, 0) },
          { key: "filled", label: "Filled", numeric: true, render: (o) => number(o.filled_quantity, 0) },
          { key: "state", label: "State", render: (o) => <span className={`status ${o.state}`}>{o.state}</span> },
          { key: "reason", label: "Reason", render: (o) => o.reason ?? "" },
          {
            key: "cancel",
            label: "Cancel",
            render: (o) =>
              canTrade && OPEN.has(o.state) && o.state !== "pending_cancel" ? (
                <button type="button" onClick={() => { act(`${base}/orders/${o.id}/cancel`); }}>
                  Cancel
                </button>
              ) : null,
          },
        ]}
      />
      <DataTable
        caption="Fills, newest first"
        rows={fills.data ?? []}
        rowKey={(f) => f.broker_fill_id}
        limit={200}
        columns={[
          { key: "at", label: "Filled (UTC)", render: (f) => when(f.filled_at) },
          { key: "symbol", label: "Symbol", render: (f) => f.symbol },
          { key: "side", label: "Side", render: (f) => side(f.side) },
          { key: "qty", label: "Quantity", numeric: true, render: (f) => number(f.quantity, 0) },
          { key: "price", label: "Price", numeric: true, render: (f) => number(f.price) },
          { key: "fee", label: "Commission", numeric: true, render: (f) => number(f.commission) },
          { key: "pnl", label: "Realized P&L", numeric: true, render: (f) => number(f.realized_pnl) },
        ]}
      />
      {canTrade && <KillSwitch onHalt={(reason) => { act(`${base}/halt`, { reason }); }} onReset={() => { act(`/api/v1/trading/reset${query({ account_id: account.id })}`); }} />}
    </>
  );
}

function PlaceOrder({ onPlace }: { onPlace: (body: OrderRequest) => void }) {
  const [type, setType] = useState("market");
  const submit = (event: Submit) => {
    const form = submitted(event);
    onPlace({
      symbol: text(form, "symbol").trim().toUpperCase(),
      side: Number(text(form, "side")),
      quantity: text(form, "quantity"),
      order_type: type as OrderRequest["order_type"],
      limit_price: type === "limit" ? text(form, "limit_price") : null,
    });
  };
  return (
    <form className="card toolbar" onSubmit={submit} aria-labelledby="place-order">
      <h2 id="place-order">Place an order</h2>
      <label>
        Symbol
        <input name="symbol" required defaultValue="AAPL" className="narrow" />
      </label>
      <label>
        Side
        <select name="side" defaultValue="1">
          <option value="1">buy</option>
          <option value="-1">sell</option>
        </select>
      </label>
      <label>
        Quantity
        <input name="quantity" type="number" min="0" step="any" required defaultValue={10} className="narrow" />
      </label>
      <label>
        Type
        <select value={type} onChange={(e) => { setType(e.target.value); }}>
          <option value="market">market</option>
          <option value="limit">limit</option>
        </select>
      </label>
      {type === "limit" && (
        <label>
          Limit price
          <input name="limit_price" type="number" min="0" step="any" required className="narrow" />
        </label>
      )}
      <button type="submit">Place order</button>
    </form>
  );
}

function KillSwitch({ onHalt, onReset }: { onHalt: (reason: string) => void; onReset: () => void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [reason, setReason] = useState("halted from the dashboard");
  return (
    <div className="card danger">
      <h2>Kill switch</h2>
      <p className="muted small">Halting cancels every open order of the account and refuses new ones until reset.</p>
      <button type="button" className="danger" onClick={() => dialog.current?.showModal()}>
        Halt this account…
      </button>{" "}
      <button type="button" onClick={onReset}>
        Lift the halt
      </button>
      <dialog ref={dialog} aria-labelledby="halt-title">
        <form
          method="dialog"
          onSubmit={() => { onHalt(reason); }}
        >
          <h3 id="halt-title">Halt trading on this account?</h3>
          <label>
            Reason
            <input value={reason} onChange={(e) => { setReason(e.target.value); }} required />
          </label>
          <div className="actions">
            <button type="button" onClick={() => dialog.current?.close()}>
              Keep trading
            </button>
            <button type="submit" className="danger">
              Halt now
            </button>
          </div>
        </form>
      </dialog>
    </div>
  );
}

function OpenAccount({ onOpened }: { onOpened: () => void }) {
  const [error, setError] = useState<ApiError>();
  const submit = (event: Submit) => {
    const form = submitted(event);
    const body = { name: text(form, "name"), broker: "paper", mode: "paper", initial_cash: text(form, "cash") };
    api("/api/v1/accounts", { method: "POST", body })
      .then(onOpened)
      .catch((caught: unknown) => { setError(asApiError(caught)); });
  };
  return (
    <form className="card toolbar" onSubmit={submit} aria-labelledby="open-account">
      <h2 id="open-account">Open a paper account</h2>
      <label>
        Name
        <input name="name" required defaultValue="paper" />
      </label>
      <label>
        Initial cash
        <input name="cash" type="number" min="1" step="any" required defaultValue={100000} />
      </label>
      <button type="submit">Open account</button>
      <ProblemNote error={error} />
    </form>
  );
}
