// Read an API resource into a component: loading, the answer or the problem, reload, and
// optional polling (live pages) that stops when the component goes away.

import { useCallback, useEffect, useState } from "react";
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

  useEffect(() => {
    if (path === null) return;
    let current = true; // false once the path changes or the component goes away
    setLoading(true);
    api<T>(path)
      .then((answer) => {
        if (current) {
          setData(answer);
          setError(undefined);
        }
      })
      .catch((caught: unknown) => {
        if (current) setError(asApiError(caught));
      })
      .finally(() => {
        if (current) setLoading(false);
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
