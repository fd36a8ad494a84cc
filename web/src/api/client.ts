// The one way the dashboard talks to the CIFT API: same origin, bearer tokens from
// sign-in, refreshed before they expire, and every failure as the API's problem title.

import type { components } from "./schema";

type Problem = components["schemas"]["Problem"];
type TokenResponse = components["schemas"]["TokenResponse"];

export class ApiError extends Error {
  readonly status: number;
  readonly title: string;
  readonly detail: string;
  readonly requestId: string | undefined;

  constructor(status: number, title: string, detail: string, requestId?: string) {
    super(detail ? `${title}: ${detail}` : title);
    this.status = status;
    this.title = title;
    this.detail = detail;
    this.requestId = requestId;
  }
}

interface Tokens {
  access: string;
  refresh: string;
  expiresAt: number; // ms since the epoch
}

const KEY = "cift.session";
const listeners = new Set<() => void>();
let tokens: Tokens | null = readTokens();
let refreshing: Promise<boolean> | null = null;

function readTokens(): Tokens | null {
  try {
    const raw = sessionStorage.getItem(KEY);
    return raw ? (JSON.parse(raw) as Tokens) : null;
  } catch {
    return null;
  }
}

function keep(next: Tokens | null): void {
  tokens = next;
  if (next) sessionStorage.setItem(KEY, JSON.stringify(next));
  else sessionStorage.removeItem(KEY);
  if (!next) listeners.forEach((listener) => { listener(); });
}

function fromResponse(body: TokenResponse): Tokens {
  return {
    access: body.access_token,
    refresh: body.refresh_token,
    expiresAt: Date.now() + body.expires_in * 1000,
  };
}

/** The current access token (the WebSocket signs in with it). */
export function accessToken(): string | undefined {
  return tokens?.access;
}

export function hasSession(): boolean {
  return tokens !== null;
}

/** Called when the session ends (sign-out, or a refresh the server refused). */
export function onSignedOut(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export async function problemOf(response: Response): Promise<ApiError> {
  const requestId = response.headers.get("x-request-id") ?? undefined;
  try {
    const body = (await response.json()) as Partial<Problem>;
    return new ApiError(
      response.status,
      body.title ?? response.statusText,
      body.detail ?? "",
      body.request_id ?? requestId,
    );
  } catch {
    return new ApiError(response.status, response.statusText || "Request failed", "", requestId);
  }
}

async function refresh(): Promise<boolean> {
  const current = tokens;
  if (!current) return false;
  const response = await fetch("/api/v1/auth/refresh", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ refresh_token: current.refresh }),
  });
  if (!response.ok) {
    keep(null);
    return false;
  }
  keep(fromResponse((await response.json()) as TokenResponse));
  return true;
}

function refreshOnce(): Promise<boolean> {
  refreshing ??= refresh().finally(() => {
    refreshing = null;
  });
  return refreshing;
}

export interface Request {
  method?: "GET" | "POST" | "PATCH" | "DELETE";
  body?: unknown;
  accept?: string;
}

async function send(path: string, request: Request): Promise<Response> {
  const headers: Record<string, string> = { Accept: request.accept ?? "application/json" };
  if (tokens) headers.Authorization = `Bearer ${tokens.access}`;
  if (request.body !== undefined) headers["Content-Type"] = "application/json";
  return fetch(path, {
    method: request.method ?? "GET",
    headers,
    body: request.body === undefined ? null : JSON.stringify(request.body),
  });
}

/** The raw response of a request to the API, signed in; throws ApiError unless 2xx. */
export async function request(path: string, options: Request = {}): Promise<Response> {
  if (tokens && tokens.expiresAt - Date.now() < 30_000) await refreshOnce();
  let response = await send(path, options);
  if (response.status === 401 && tokens && (await refreshOnce())) {
    response = await send(path, options);
  }
  if (!response.ok) throw await problemOf(response);
  return response;
}

/** The JSON answer of a request (undefined for 204). */
export async function api<T>(path: string, options: Request = {}): Promise<T> {
  const response = await request(path, options);
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

export async function signIn(username: string, password: string): Promise<void> {
  const response = await fetch("/api/v1/auth/login", {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify({ username, password }),
  });
  if (!response.ok) throw await problemOf(response);
  keep(fromResponse((await response.json()) as TokenResponse));
}

export async function signOut(): Promise<void> {
  try {
    if (tokens) await send("/api/v1/auth/logout", { method: "POST" });
  } finally {
    keep(null);
  }
}

/** A query string from the defined values of ``params``. */
export function query(params: Record<string, string | number | boolean | null | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}
