import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ApiError, api, hasSession, signIn, signOut } from "./client";

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": status >= 400 ? "application/problem+json" : "application/json" },
  });
}

const TOKENS = { access_token: "a1", token_type: "bearer", expires_in: 900, refresh_token: "r1", refresh_expires_at: "" };

describe("the API client", () => {
  let calls: { url: string; init: RequestInit | undefined }[];

  beforeEach(() => {
    calls = [];
  });
  afterEach(async () => {
    vi.unstubAllGlobals();
    await signOut().catch(() => undefined);
  });

  function answer(...responses: Response[]): void {
    vi.stubGlobal("fetch", vi.fn((url: string, init?: RequestInit) => {
      calls.push({ url, init });
      const next = responses.shift();
      if (!next) throw new Error(`unexpected request to ${url}`);
      return Promise.resolve(next);
    }));
  }

  it("shows a refused request as the problem's title and detail", async () => {
    answer(json(422, { title: "Invalid input", detail: "end is not after start", status: 422, request_id: "rid" }));
    const failure = await api("/api/v1/market/bars").catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ApiError);
    expect((failure as ApiError).message).toBe("Invalid input: end is not after start");
    expect((failure as ApiError).requestId).toBe("rid");
  });

  it("refreshes an expired access token once and repeats the request", async () => {
    answer(json(200, TOKENS));
    await signIn("local", "pw");
    calls.length = 0;
    answer(
      json(401, { title: "Not signed in", detail: "expired" }),
      json(200, { ...TOKENS, access_token: "a2", refresh_token: "r2" }),
      json(200, [{ id: "run" }]),
    );
    expect(await api<unknown[]>("/api/v1/backtests")).toEqual([{ id: "run" }]);
    expect(calls.map((c) => c.url)).toEqual(["/api/v1/backtests", "/api/v1/auth/refresh", "/api/v1/backtests"]);
    const headers = calls[2]?.init?.headers as Record<string, string>;
    expect(headers.Authorization).toBe("Bearer a2");
    expect(JSON.parse(calls[1]?.init?.body as string)).toEqual({ refresh_token: "r1" });
  });

  it("ends the session when the server refuses the refresh", async () => {
    answer(json(200, TOKENS));
    await signIn("local", "pw");
    answer(json(401, { title: "Not signed in" }), json(401, { title: "Refresh refused" }));
    await expect(api("/api/v1/backtests")).rejects.toThrow("Not signed in");
    expect(hasSession()).toBe(false);
  });
});
