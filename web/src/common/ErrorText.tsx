import { Text } from "@mantine/core";

/** A refusal the server gave for a whole list or item rather than one of its fields. */
export function ErrorText({ message }: { message: string | undefined }) {
  if (!message) return null;
  return (
    <Text c="red" size="sm">
      {message}
    </Text>
  );
}
