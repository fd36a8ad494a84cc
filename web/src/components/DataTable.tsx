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
    <div className="table-wrap">
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
    </div>
  );
}
