import type { ComponentChildren } from 'preact';

export interface Column<T> {
  /** Header text (also the accessible name of the column). */
  title: ComponentChildren;
  cell: (row: T) => ComponentChildren;
  /** Extra class for the cell, e.g. `num` for right-aligned numbers. */
  class?: string;
}

/** A plain data table; the page decides what rows are (already fetched, already paged). */
export function Table<T>(props: { caption: string; columns: Column<T>[]; rows: T[]; rowKey: (row: T) => string; empty: string; rowProps?: (row: T) => Record<string, string> }) {
  return (
    <div class="table-wrap">
      <table>
        <caption class="sr-only">{props.caption}</caption>
        <thead>
          <tr>
            {props.columns.map((c, i) => (
              <th scope="col" key={i} class={c.class}>
                {c.title}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {props.rows.length === 0 ? (
            <tr>
              <td colSpan={props.columns.length} class="empty">
                {props.empty}
              </td>
            </tr>
          ) : (
            props.rows.map((row) => (
              <tr key={props.rowKey(row)} {...(props.rowProps?.(row) ?? {})}>
                {props.columns.map((c, i) => (
                  <td key={i} class={c.class}>
                    {c.cell(row)}
                  </td>
                ))}
              </tr>
            ))
          )}
        </tbody>
      </table>
    </div>
  );
}
