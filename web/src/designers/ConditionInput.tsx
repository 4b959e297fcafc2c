import { Text, Textarea } from "@mantine/core";
import { useState } from "react";
import { useConditionCheck } from "./useConditionCheck";

interface Props {
  client: string;
  label: string;
  value: string;
  onChange: (value: string) => void;
  /** What the last save said of this expression. */
  error?: string;
}

/** A condition's expression, checked by the server as it is typed. */
export function ConditionInput({ client, label, value, onChange, error }: Props) {
  const [edited, setEdited] = useState(false);
  const verdict = useConditionCheck(client, value, edited);
  return (
    <div>
      <Textarea
        label="Condition"
        aria-label={label}
        description="Empty always holds, e.g. ${call.ani} starts with '+44' and not ${fields.vip} is empty"
        placeholder="always"
        autosize
        minRows={1}
        styles={{ input: { fontFamily: "monospace" } }}
        value={value}
        // Once edited, the live verdict replaces what the last save said.
        error={verdict ? (verdict.valid ? undefined : verdict.message) : edited ? undefined : error}
        onChange={(e) => {
          setEdited(true);
          onChange(e.currentTarget.value);
        }}
      />
      {verdict?.valid && (
        <Text size="xs" c="teal">
          Valid
        </Text>
      )}
    </div>
  );
}
