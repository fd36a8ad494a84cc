// Sign-in with a CIFT user's name (or e-mail) and password.

import { useState } from "react";
import { submitted, text } from "../lib/forms";
import type { Submit } from "../lib/forms";
import { ProblemNote } from "../components/Problem";
import { useSession } from "../auth/session";
import type { ApiError } from "../api/client";
import { asApiError } from "../lib/useApi";

export function SignIn() {
  const { signIn } = useSession();
  const [error, setError] = useState<ApiError>();
  const [busy, setBusy] = useState(false);

  const submit = (event: Submit) => {
    const form = submitted(event);
    setBusy(true);
    signIn(text(form, "username"), text(form, "password"))
      .catch((caught: unknown) => { setError(asApiError(caught)); })
      .finally(() => { setBusy(false); });
  };

  return (
    <main className="signin" id="main">
      <form onSubmit={submit} aria-labelledby="signin-title">
        <h1 id="signin-title">CIFT Markets</h1>
        <p className="muted">Sign in to see markets, backtests, models and trading.</p>
        <label>
          User name or e-mail
          <input name="username" autoComplete="username" required autoFocus />
        </label>
        <label>
          Password
          <input name="password" type="password" autoComplete="current-password" required />
        </label>
        <ProblemNote error={error} />
        <button type="submit" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
        <p className="muted small">
          No user yet? On the server: <code>cift users password local</code> to sign in as the
          command line's own user, or <code>cift users create NAME --email E --admin</code>.
        </p>
      </form>
    </main>
  );
}
