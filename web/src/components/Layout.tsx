// The frame of every signed-in page: navigation, who is signed in, theme, sign-out.

import { useState } from "react";
import { NavLink, Outlet } from "react-router-dom";
import { useSession } from "../auth/session";
import { applyTheme, savedTheme } from "../lib/theme";
import type { Theme } from "../lib/theme";

const PAGES = [
  ["/market", "Market"],
  ["/backtests", "Backtests"],
  ["/models", "Models"],
  ["/trading", "Trading"],
  ["/alerts", "Alerts"],
  ["/system", "System"],
] as const;

export function Layout() {
  const { me, signOut } = useSession();
  const [theme, setTheme] = useState<Theme>(savedTheme());
  const toggle = () => {
    const next = theme === "dark" ? "light" : "dark";
    applyTheme(next);
    setTheme(next);
  };
  return (
    <div className="shell">
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="top">
        <span className="brand">CIFT Markets</span>
        <nav aria-label="Pages">
          {PAGES.map(([to, label]) => (
            <NavLink key={to} to={to}>
              {label}
            </NavLink>
          ))}
        </nav>
        <div className="who">
          <button type="button" className="ghost" onClick={toggle} aria-label={`Use the ${theme === "dark" ? "light" : "dark"} theme`}>
            {theme === "dark" ? "☀" : "☾"}
          </button>
          <span title={me?.email}>
            {me?.username} <small className="muted">({me?.role})</small>
          </span>
          <button type="button" onClick={() => void signOut()}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <Outlet />
      </main>
    </div>
  );
}
