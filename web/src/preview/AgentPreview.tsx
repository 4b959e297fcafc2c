import { Text } from "@mantine/core";

/** The agent preview: plays the agent desktop, fires a designer's events and shows their effects. */
export function AgentPreview({ client }: { client: string }) {
  return <Text c="dimmed">Agent preview of {client}</Text>;
}
