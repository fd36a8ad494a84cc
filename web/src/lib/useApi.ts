// Read an API resource into a component: loading, the answer or the problem, reload, and
// optional polling (live pages) that stops when the component goes away.

import { useCallback, useEffect, useRef, useState } from "react";
import { ApiError, api } from "../api/client";

export interface Resource<T> {
  data: T | undefined;
  error: ApiError | undefined;
  loading: boolean;
  reload: () => void;
}

export function asApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new ApiError(0, "The server could not be reached", message);
}

export function useApi<T>(path: string | null, every?: number): Resource<T> {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<ApiError>();
  const [loading, setLoading] = useState(path !== null);
  const [tick, setTick] = useState(0);
  const alive = useRef(true);

  useEffect(() => {
    alive.current = true;
    return () => {
      alive.current = false;
    };
  }, []);

  useEffect(() => {
    if (path === null) return;
    let current = true;
    setLoading(true);
    api<T>(path)
      .then((answer) => {
        if (current && alive.current) {
          setData(answer);
          setError(undefined);
        }
      })
      .catch((caught: unknown) => {
        if (current && alive.current) setError(asApiError(caught));
      })
      .finally(() => {
        if (current && alive.current) setLoading(false);
      });
    return () => {
      current = false;
    };
  }, [path, tick]);

  useEffect(() => {
    if (!every || path === null) return;
    const timer = window.setInterval(() => { setTick((n) => n + 1); }, every);
    return () => { window.clearInterval(timer); };
  }, [every, path]);

  const reload = useCallback(() => { setTick((n) => n + 1); }, []);
  return { data, error, loading, reload };
}
