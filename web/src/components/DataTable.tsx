// A plain, accessible table: a caption, column headers, optional row selection.

import type { ReactNode } from "react";

export interface Column<Row> {
  key: string;
  label: string;
  render: (row: Row) => ReactNode;
  numeric?: boolean;
}

interface Props<Row> {
  caption: string;
  rows: Row[];
  columns: Column<Row>[];
  rowKey: (row: Row) => string;
  empty?: string;
  limit?: number;
}

export function DataTable<Row>({ caption, rows, columns, rowKey, empty, limit }: Props<Row>) {
  const shown = limit ? rows.slice(0, limit) : rows;
  return (
    <ScrollRegion label={caption}>
      <table>
        <caption>
          {caption}
          {limit && rows.length > limit && (
            <small className="muted"> (first {limit} of {rows.length})</small>
          )}
        </caption>
        <thead>
          <tr>
            {columns.map((c) => (
              <th key={c.key} scope="col" className={c.numeric ? "num" : undefined}>
                {c.label}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {shown.length === 0 && (
            <tr>
              <td colSpan={columns.length} className="muted">
                {empty ?? "Nothing yet."}
              </td>
            </tr>
          )}
          {shown.map((row) => (
            <tr key={rowKey(row)}>
              {columns.map((c) => (
                <td key={c.key} className={c.numeric ? "num" : undefined}>
                  {c.render(row)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </ScrollRegion>
  );
}

/** A box that scrolls sideways when its table is wider than the screen: focusable and
 * named, so the keyboard can scroll it too. */
export function ScrollRegion({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="table-wrap" role="region" aria-label={label} tabIndex={0}>
      {children}
    </div>
  );
}
