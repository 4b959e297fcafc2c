import { ActionIcon, Button, Checkbox, Group, Table, Text, TextInput } from "@mantine/core";
import { MASK } from "../api/client";

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

export function Rows<R extends Row>({ label, rows, onChange, errors, secrets, disabled, blank }: Props<R>) {
  const change = (index: number, patch: Partial<R>) => onChange(rows.map((r, i) => (i === index ? { ...r, ...patch } : r)));
  return (
    <div>
      <Group justify="space-between" mb={4}>
        <Text fw={600} size="sm">
          {label}
        </Text>
        {!disabled && (
          <Button size="compact-xs" variant="light" onClick={() => onChange([...rows, { ...blank }])}>
            Add {label.toLowerCase().replace(/s$/, "")}
          </Button>
        )}
      </Group>
      {rows.length === 0 ? (
        <Text c="dimmed" size="sm">
          None
        </Text>
      ) : (
        <Table withTableBorder verticalSpacing={4} aria-label={label}>
          <Table.Thead>
            <Table.Tr>
              <Table.Th w={70}>On</Table.Th>
              <Table.Th>Name</Table.Th>
              <Table.Th>Value</Table.Th>
              {secrets && <Table.Th w={70}>Secret</Table.Th>}
              <Table.Th w={40} />
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {rows.map((row, index) => (
              <Table.Tr key={index}>
                <Table.Td>
                  <Checkbox
                    aria-label={`${label} ${index + 1} enabled`}
                    checked={row.enabled ?? true}
                    disabled={disabled}
                    onChange={(e) => change(index, { enabled: e.currentTarget.checked } as Partial<R>)}
                  />
                </Table.Td>
                <Table.Td>
                  <TextInput
                    aria-label={`${label} ${index + 1} name`}
                    value={row.name}
                    disabled={disabled}
                    error={errors[`[${index}].name`]}
                    onChange={(e) => change(index, { name: e.currentTarget.value } as Partial<R>)}
                  />
                </Table.Td>
                <Table.Td>
                  {row.secret && row.value === MASK ? (
                    <Group gap="xs">
                      <Text size="sm" c="teal">
                        set
                      </Text>
                      {!disabled && (
                        <Button size="compact-xs" variant="light" onClick={() => change(index, { value: "" } as Partial<R>)}>
                          Replace
                        </Button>
                      )}
                    </Group>
                  ) : (
                    <TextInput
                      aria-label={`${label} ${index + 1} value`}
                      type={row.secret ? "password" : "text"}
                      value={row.value ?? ""}
                      disabled={disabled}
                      error={errors[`[${index}].value`]}
                      onChange={(e) => change(index, { value: e.currentTarget.value } as Partial<R>)}
                    />
                  )}
                </Table.Td>
                {secrets && (
                  <Table.Td>
                    <Checkbox
                      aria-label={`${label} ${index + 1} secret`}
                      checked={row.secret ?? false}
                      disabled={disabled}
                      onChange={(e) => change(index, { secret: e.currentTarget.checked } as Partial<R>)}
                    />
                  </Table.Td>
                )}
                <Table.Td>
                  {!disabled && (
                    <ActionIcon variant="subtle" color="red" aria-label={`Remove ${label} ${index + 1}`} onClick={() => onChange(rows.filter((_, i) => i !== index))}>
                      ×
                    </ActionIcon>
                  )}
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
      {errors[""] && (
        <Text c="red" size="sm">
          {errors[""]}
        </Text>
      )}
    </div>
  );
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
