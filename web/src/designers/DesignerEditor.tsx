import { Text } from "@mantine/core";

/** The designer editor: designers, their pages and components, events, conditions and actions. */
export function DesignerEditor({ client }: { client: string }) {
  return <Text c="dimmed">Designers of {client}</Text>;
}
