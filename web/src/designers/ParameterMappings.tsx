import { Autocomplete, Badge, SegmentedControl, Table, Text, TextInput } from "@mantine/core";
import { useEffect, useState } from "react";
import { CONTEXT_ROOTS } from "../editor/placeholders";
import type { Mapping } from "./draft";
import { itemErrors } from "./lists";
import { type Parameter, type Source, literalOf, sourceOf, textOf, withMapping, withSource } from "./mappings";
import { RemoveButton } from "../common/RemoveButton";
import { ErrorText } from "../common/ErrorText";

interface Props {
  /** The request's declared parameters; undefined while it loads. */
  parameters: readonly Parameter[] | undefined;
  mappings: Mapping[];
  onChange: (mappings: Mapping[]) => void;
  /** Errors under the call's `parameters`: `[2].path`, or "" for the list. */
  errors: Record<string, string>;
  /** Offered as path completions besides the context roots, e.g. `responses.Find customer.`. */
  paths?: readonly string[];
}

const SOURCES = [
  { value: "none", label: "Not mapped" },
  { value: "path", label: "Context path" },
  { value: "value", label: "Literal" },
];

/** Each parameter of the called request, mapped from a context path or a literal. */
export function ParameterMappings({ parameters, mappings, onChange, errors, paths = [] }: Props) {
  if (!parameters) return <Text size="sm" c="dimmed">Pick a request to map its parameters.</Text>;
  const declared = new Set(parameters.map((p) => p.name));
  const strays = mappings.filter((m) => !declared.has(m.name));
  const suggestions = [...CONTEXT_ROOTS.map((r) => `${r}.`), ...paths];
  return (
    <div>
      {parameters.length === 0 && strays.length === 0 ? (
        <Text size="sm" c="dimmed">
          The request takes no parameters.
        </Text>
      ) : (
        <Table verticalSpacing={4} aria-label="Parameter mappings">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Parameter</Table.Th>
              <Table.Th w={290}>From</Table.Th>
              <Table.Th>Value</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {parameters.map((p) => {
              const index = mappings.findIndex((m) => m.name === p.name);
              const mapping = mappings[index];
              const source = sourceOf(mapping);
              const found = itemErrors(errors, index);
              return (
                <Table.Tr key={p.name}>
                  <Table.Td>
                    <Text size="sm" fw={500}>
                      {p.name}
                      {p.required && p.default == null ? " *" : ""}
                    </Text>
                    <Text size="xs" c="dimmed">
                      {[p.type, p.secret ? "secret" : "", p.default != null ? `default ${textOf(p.default)}` : ""].filter(Boolean).join(" · ")}
                    </Text>
                  </Table.Td>
                  <Table.Td>
                    <SegmentedControl
                      size="xs"
                      aria-label={`${p.name} from`}
                      data={SOURCES}
                      value={source}
                      onChange={(v) => onChange(withSource(mappings, p.name, v as Source))}
                    />
                    {found.name && (
                      <Text size="xs" c="red">
                        {found.name}
                      </Text>
                    )}
                  </Table.Td>
                  <Table.Td>
                    {source === "path" && mapping && (
                      <Autocomplete
                        aria-label={`${p.name} path`}
                        placeholder="call.ani"
                        data={suggestions}
                        value={mapping.path ?? ""}
                        error={found.path}
                        onChange={(path) => onChange(withMapping(mappings, p.name, { path }))}
                      />
                    )}
                    {source === "value" && mapping && (
                      <LiteralInput
                        label={`${p.name} value`}
                        type={p.type}
                        value={mapping.value}
                        error={found.value}
                        onChange={(value) => onChange(withMapping(mappings, p.name, { value }))}
                      />
                    )}
                  </Table.Td>
                </Table.Tr>
              );
            })}
            {strays.map((m) => {
              const found = itemErrors(errors, mappings.indexOf(m));
              return (
                <Table.Tr key={`stray-${m.name}`}>
                  <Table.Td>
                    <Text size="sm" fw={500} td="line-through">
                      {m.name}
                    </Text>
                    <Badge size="xs" color="orange" variant="light">
                      not a parameter of this request
                    </Badge>
                  </Table.Td>
                  <Table.Td colSpan={2}>
                    <RemoveButton label={`Remove mapping ${m.name}`} onClick={() => onChange(mappings.filter((x) => x !== m))} />
                    {Object.values(found).map((message) => (
                      <Text key={message} size="xs" c="red">
                        {message}
                      </Text>
                    ))}
                  </Table.Td>
                </Table.Tr>
              );
            })}
          </Table.Tbody>
        </Table>
      )}
      <ErrorText message={errors[""]} />
    </div>
  );
}

/** A literal typed as text and kept as the parameter's type; the text stays as typed (`1.`
 * is kept while 1 is stored) until the stored value changes from elsewhere. */
function LiteralInput({ label, type, value, error, onChange }: { label: string; type: Parameter["type"]; value: unknown; error?: string; onChange: (value: unknown) => void }) {
  const [text, setText] = useState(() => textOf(value));
  useEffect(() => {
    if (JSON.stringify(literalOf(type, text)) !== JSON.stringify(value ?? "")) setText(textOf(value));
    // Only a change from elsewhere (a reload) resets the text.
  }, [value]);
  return (
    <TextInput
      aria-label={label}
      placeholder={type === "object" ? '{"key": "value"}' : type}
      value={text}
      error={error}
      onChange={(e) => {
        setText(e.currentTarget.value);
        onChange(literalOf(type, e.currentTarget.value));
      }}
    />
  );
}
