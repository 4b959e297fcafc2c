import { Checkbox, Select, Table, Text, TextInput } from "@mantine/core";
import type { ReactNode } from "react";
import { ListHeader } from "./ListHeader";
import { RemoveButton } from "./RemoveButton";
import { ErrorText } from "./ErrorText";

export interface Column<R> {
  key: keyof R & string;
  label: string;
  kind: "text" | "select" | "bool" | "custom";
  options?: readonly string[];
  width?: number;
  /** A "custom" cell: `name` labels its control, `set` changes the row's field. */
  render?: (cell: { row: R; name: string; error?: string; disabled?: boolean; set: (value: unknown) => void }) => ReactNode;
}

interface Props<R> {
  label: string;
  rows: R[];
  columns: Column<R>[];
  onChange: (rows: R[]) => void;
  /** Errors by path under this list, e.g. `[0].name`. */
  errors: Record<string, string>;
  blank: R;
  disabled?: boolean;
}

/** An editable table of objects (headers, request and response parameters), a column a field;
 * each control is labelled by row and column ("header 2 value") for a screen reader. */
export function Grid<R extends object>({ label, rows, columns, onChange, errors, blank, disabled }: Props<R>) {
  const change = (index: number, key: keyof R, value: unknown) => onChange(rows.map((r, i) => (i === index ? { ...r, [key]: value } : r)));
  const singular = label.toLowerCase().replace(/s$/, "");
  return (
    <div>
      <ListHeader label={label} onAdd={() => onChange([...rows, { ...blank }])} disabled={disabled} />
      {rows.length === 0 ? (
        <Text c="dimmed" size="sm">
          None
        </Text>
      ) : (
        <Table withTableBorder verticalSpacing={4} aria-label={label}>
          <Table.Thead>
            <Table.Tr>
              {columns.map((c) => (
                <Table.Th key={c.key} w={c.width}>
                  {c.label}
                </Table.Th>
              ))}
              <Table.Th w={40} />
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {rows.map((row, index) => (
              <Table.Tr key={index}>
                {columns.map((c) => {
                  const value = row[c.key] as unknown;
                  const name = `${singular} ${index + 1} ${c.label.toLowerCase()}`;
                  const error = errors[`[${index}].${c.key}`];
                  return (
                    <Table.Td key={c.key}>
                      {c.kind === "custom" ? (
                        c.render?.({ row, name, error, disabled, set: (v) => change(index, c.key, v) })
                      ) : c.kind === "bool" ? (
                        <Checkbox aria-label={name} checked={Boolean(value)} disabled={disabled} onChange={(e) => change(index, c.key, e.currentTarget.checked)} error={error} />
                      ) : c.kind === "select" ? (
                        <Select aria-label={name} data={[...(c.options ?? [])]} value={String(value ?? c.options?.[0] ?? "")} allowDeselect={false} disabled={disabled} error={error} onChange={(v) => change(index, c.key, v)} />
                      ) : (
                        <TextInput aria-label={name} value={value == null ? "" : typeof value === "string" ? value : JSON.stringify(value)} disabled={disabled} error={error} onChange={(e) => change(index, c.key, e.currentTarget.value)} />
                      )}
                    </Table.Td>
                  );
                })}
                <Table.Td>
                  {!disabled && (
                    <RemoveButton label={`Remove ${singular} ${index + 1}`} onClick={() => onChange(rows.filter((_, i) => i !== index))} />
                  )}
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
      <ErrorText message={errors[""]} />
    </div>
  );
}
