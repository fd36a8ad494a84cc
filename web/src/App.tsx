// Routes: sign-in until a session exists, then the pages inside the layout.

import { lazy, Suspense } from "react";
import { BrowserRouter, Navigate, Route, Routes } from "react-router-dom";
import { SessionProvider, useSession } from "./auth/session";
import { Layout } from "./components/Layout";
import { Loading } from "./components/Problem";
import { SignIn } from "./pages/SignIn";

const Market = lazy(() => import("./pages/Market"));
const Backtests = lazy(() => import("./pages/Backtests"));
const BacktestRun = lazy(() => import("./pages/BacktestRun"));
const Compare = lazy(() => import("./pages/Compare"));
const Models = lazy(() => import("./pages/Models"));
const Trading = lazy(() => import("./pages/Trading"));
const Alerts = lazy(() => import("./pages/Alerts"));
const System = lazy(() => import("./pages/System"));

function Pages() {
  const { me, ready } = useSession();
  if (!ready) return <Loading what="your session" />;
  if (!me) return <SignIn />;
  return (
    <Suspense fallback={<Loading what="the page" />}>
      <Routes>
        <Route element={<Layout />}>
          <Route index element={<Navigate to="/market" replace />} />
          <Route path="market" element={<Market />} />
          <Route path="backtests" element={<Backtests />} />
          <Route path="backtests/compare" element={<Compare />} />
          <Route path="backtests/:runId" element={<BacktestRun />} />
          <Route path="models" element={<Models />} />
          <Route path="trading" element={<Trading />} />
          <Route path="alerts" element={<Alerts />} />
          <Route path="system" element={<System />} />
          <Route path="*" element={<p>No page here. Pick one above.</p>} />
        </Route>
      </Routes>
    </Suspense>
  );
}

export function App() {
  return (
    <BrowserRouter>
      <SessionProvider>
        <Pages />
      </SessionProvider>
    </BrowserRouter>
  );
}
