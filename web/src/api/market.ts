// Whole ranges of paged rows: bars and computed features, page after page.

import { api, query } from "./client";
import type { BarRow, Page } from "./types";

const PAGE_ROWS = 50_000;

async function everyPage<Row>(path: string, params: Record<string, string | undefined>): Promise<Row[]> {
  const rows: Row[] = [];
  let cursor: string | null = null;
  do {
    const page: Page<Row> = await api<Page<Row>>(
      path + query({ ...params, limit: PAGE_ROWS, cursor: cursor ?? undefined }),
    );
    rows.push(...page.rows);
    cursor = page.next_cursor;
  } while (cursor);
  return rows;
}

export interface Range {
  symbol: string;
  timeframe: string;
  start?: string;
  end?: string;
}

export function loadBars(range: Range): Promise<BarRow[]> {
  return everyPage<BarRow>("/api/v1/market/bars", { ...range });
}

export function loadFeatures(range: Range, features: string): Promise<Record<string, unknown>[]> {
  return everyPage<Record<string, unknown>>("/api/v1/features/compute", { ...range, features });
}
