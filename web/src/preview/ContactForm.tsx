import { SimpleGrid, Text } from "@mantine/core";
import { Rows } from "../common/Rows";
import type { Contact } from "./contact";

const PARTS = [
  { key: "loginData", label: "Login data" },
  { key: "call", label: "Call" },
  { key: "account", label: "Account" },
] as const;

/** The contact's loginData, call and account, as name/value rows. */
export function ContactForm({ contact, onChange }: { contact: Contact; onChange: (contact: Contact) => void }) {
  return (
    <div>
      <SimpleGrid cols={{ base: 1, lg: 3 }}>
        {PARTS.map(({ key, label }) => (
          <Rows key={key} label={label} rows={contact[key]} errors={{}} blank={{ name: "", value: "", enabled: true }} onChange={(rows) => onChange({ ...contact, [key]: rows })} />
        ))}
      </SimpleGrid>
      <Text size="xs" c="dimmed" mt={4}>
        A value that reads as JSON is sent as such (42, true, {"{"}"a": 1{"}"}); any other text as it is.
      </Text>
    </div>
  );
}
