import { Button, Group, Input, PasswordInput, Text } from "@mantine/core";
import { MASK } from "../api/client";

interface Props {
  label: string;
  /** MASK while the stored secret is kept, null when none is set, else the new value. */
  value: string | null | undefined;
  onChange: (value: string | null) => void;
  error?: string;
  disabled?: boolean;
}

/** A secret shows as set or not set, never its value; replacing or removing it is an explicit act. */
export function SecretInput({ label, value, onChange, error, disabled }: Props) {
  if (value === MASK) {
    return (
      <Input.Wrapper label={label} error={error}>
        <Group gap="xs">
          <Text size="sm" c="teal" aria-label={`${label} is set`}>
            set
          </Text>
          {!disabled && (
            <>
              <Button size="compact-xs" variant="light" onClick={() => onChange("")}>
                Replace
              </Button>
              <Button size="compact-xs" variant="subtle" color="red" onClick={() => onChange(null)}>
                Remove
              </Button>
            </>
          )}
        </Group>
      </Input.Wrapper>
    );
  }
  return (
    <PasswordInput
      label={label}
      placeholder="not set"
      value={value ?? ""}
      onChange={(e) => onChange(e.currentTarget.value === "" ? null : e.currentTarget.value)}
      error={error}
      disabled={disabled}
      autoComplete="new-password"
    />
  );
}
