import { Button, Group, Text, TextInput } from "@mantine/core";
import { MASK } from "../api/client";
import { type Column, Grid } from "./Grid";

/** Headers, query and form fields are ordered lists of rows (Bruno's shape), never dicts. */
export interface Row {
  name: string;
  value?: string;
  enabled?: boolean;
  secret?: boolean;
}

interface Props<R extends Row> {
  label: string;
  rows: R[];
  onChange: (rows: R[]) => void;
  /** Errors by path under this list, e.g. `[0].name`. */
  errors: Record<string, string>;
  /** Headers may be secret: a secret's value shows as set, and is replaced explicitly. */
  secrets?: boolean;
  disabled?: boolean;
  blank: R;
}

/** A stored secret's value shows as set, never itself; Replace asks for a new one. */
function value<R extends Row>(): Column<R> {
  return {
    key: "value",
    label: "Value",
    kind: "custom",
    render: ({ row, name, error, disabled, set }) =>
      row.secret && row.value === MASK ? (
        <Group gap="xs">
          <Text size="sm" c="teal" aria-label={`${name} is set`}>
            set
          </Text>
          {!disabled && (
            <Button size="compact-xs" variant="light" onClick={() => set("")}>
              Replace
            </Button>
          )}
        </Group>
      ) : (
        <TextInput aria-label={name} type={row.secret ? "password" : "text"} value={row.value ?? ""} disabled={disabled} error={error} onChange={(e) => set(e.currentTarget.value)} />
      ),
  };
}

export function Rows<R extends Row>({ secrets, ...props }: Props<R>) {
  const columns: Column<R>[] = [
    { key: "enabled", label: "On", kind: "bool", width: 50 },
    { key: "name", label: "Name", kind: "text" },
    value<R>(),
    ...(secrets ? [{ key: "secret", label: "Secret", kind: "bool", width: 70 } as Column<R>] : []),
  ];
  return <Grid columns={columns} {...props} />;
}

/** The errors under `prefix` with the prefix taken off: `headers[0].name` -> `[0].name`,
 * `authorization.token_url` -> `token_url`; the list's own error is under "". */
export function under(errors: Record<string, string>, prefix: string): Record<string, string> {
  const found: Record<string, string> = {};
  for (const [field, message] of Object.entries(errors)) {
    if (field === prefix) found[""] = message;
    else if (field.startsWith(`${prefix}[`)) found[field.slice(prefix.length)] = message;
    else if (field.startsWith(`${prefix}.`)) found[field.slice(prefix.length + 1)] = message;
  }
  return found;
}
