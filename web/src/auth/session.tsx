// Who is signed in, for every page: their profile and role, sign-in and sign-out.

import { createContext, useCallback, useContext, useEffect, useMemo, useState } from "react";
import type { ReactNode } from "react";
import { api, hasSession, onSignedOut, signIn, signOut } from "../api/client";
import type { Me } from "../api/types";

interface Session {
  me: Me | null;
  ready: boolean;
  canTrade: boolean;
  signIn: (username: string, password: string) => Promise<void>;
  signOut: () => Promise<void>;
}

const SessionContext = createContext<Session | null>(null);

export function SessionProvider({ children }: { children: ReactNode }) {
  const [me, setMe] = useState<Me | null>(null);
  const [ready, setReady] = useState(!hasSession());

  useEffect(() => onSignedOut(() => { setMe(null); }), []);

  useEffect(() => {
    if (!hasSession()) return;
    api<Me>("/api/v1/auth/me")
      .then(setMe)
      .catch(() => { setMe(null); })
      .finally(() => { setReady(true); });
  }, []);

  const doSignIn = useCallback(async (username: string, password: string) => {
    await signIn(username, password);
    setMe(await api<Me>("/api/v1/auth/me"));
  }, []);

  const doSignOut = useCallback(async () => {
    await signOut();
    setMe(null);
  }, []);

  const value = useMemo<Session>(
    () => ({
      me,
      ready,
      canTrade: me?.scopes.includes("trade") ?? false,
      signIn: doSignIn,
      signOut: doSignOut,
    }),
    [me, ready, doSignIn, doSignOut],
  );
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error("useSession outside SessionProvider");
  return session;
}
