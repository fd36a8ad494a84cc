// Names for the API's schemas, generated from its OpenAPI document (npm run api-types).
import type { components } from "./schema";

type S = components["schemas"];
export type Account = S["AccountOut"];
export type AuditEntry = S["AuditEntryOut"];
export type AlertOut = S["AlertOut"];
export type AlertSpec = S["AlertSpec"];
export type BacktestDetail = S["BacktestDetail"];
export type BacktestRequest = S["BacktestRequest"];
export type BacktestSummary = S["BacktestSummary"];
export type BarRow = S["BarRow"];
export type CoverageRow = S["CoverageRow"];
export type Delivery = S["DeliveryOut"];
export type FeatureInfo = S["FeatureInfo"];
export type Fill = S["FillOut"];
export type Me = S["Me"];
export type ModelVersion = S["ModelVersionOut"];
export type Order = S["OrderOut"];
export type OrderRequest = S["OrderRequest"];
export type Positions = S["PositionsOut"];
export type Readiness = S["Readiness"];
export type RegisteredModel = S["RegisteredModelOut"];
export type StrategyInfo = S["StrategyInfo"];
export type StreamStatus = S["StreamStatus"];
export type SweepDetail = S["SweepDetail"];
export type SweepSummary = S["SweepSummary"];
export type FeatureImportance = S["FeatureImportance"];
export type SystemInfo = S["SystemInfo"];
export type TrainingJob = S["TrainingJobOut"];

/** A page of rows as the API's market and frame routes answer. */
export interface Page<Row> {
  rows: Row[];
  next_cursor: string | null;
}

export interface EquityRow {
  ts: string;
  equity: number;
  cash: number;
  gross_exposure: number;
}

export interface TradeRow {
  symbol: string;
  side: number;
  entry_ts: string;
  exit_ts: string;
  quantity: number;
  entry_price: number;
  exit_price: number;
  pnl: number;
  return: number;
  commission: number;
}
