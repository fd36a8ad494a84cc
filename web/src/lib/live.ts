// Live bars from the API's WebSocket (/api/v1/stream/ws) while a stream runs: sign in
// with the session's token, subscribe to one symbol, hand each bar on.

import type { BarRow } from "../api/types";
import { accessToken } from "../api/client";

interface Message {
  type?: string;
  kind?: string;
  message?: string;
  rows?: BarRow[];
}

/** The API's JSON times ("2024-01-02 14:30:00" or ISO) as ISO in UTC. */
export function isoTime(value: string): string {
  const text = value.includes("T") ? value : value.replace(" ", "T");
  return /Z|[+-]\d\d:?\d\d$/.test(text) ? text : `${text}Z`;
}

export function liveBars(symbol: string, onBar: (bar: BarRow) => void): () => void {
  const scheme = window.location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${window.location.host}/api/v1/stream/ws`);
  socket.onopen = () => {
    socket.send(JSON.stringify({ action: "auth", token: accessToken() ?? "" }));
  };
  socket.onmessage = (event: MessageEvent<string>) => {
    const message = JSON.parse(event.data) as Message;
    if (message.type === "authenticated") {
      socket.send(JSON.stringify({ action: "subscribe", symbols: [symbol], kinds: ["bars"] }));
    } else if (message.kind === "bars") {
      for (const row of message.rows ?? []) {
        if (row.symbol === symbol) onBar({ ...row, ts: isoTime(row.ts) });
      }
    }
  };
  return () => {
    socket.close();
  };
}
