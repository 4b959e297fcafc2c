import { Alert, Button, Group, Text } from "@mantine/core";

interface Props {
  /** What is being saved: "API", "request", "designer". */
  what: string;
  stale: boolean;
  failure: string | null;
  onReload: () => void;
  onDismiss: () => void;
}

/** Why the last save or delete did not happen: someone else saved first (412), or the server's refusal. */
export function SaveProblems({ what, stale, failure, onReload, onDismiss }: Props) {
  if (stale) {
    return (
      <Alert color="yellow" title={`Someone else saved this ${what} first`}>
        <Group>
          <Text size="sm">Your edits were not saved, and nothing was overwritten.</Text>
          <Button size="xs" onClick={onReload}>
            Reload
          </Button>
        </Group>
      </Alert>
    );
  }
  if (!failure) return null;
  return (
    <Alert color="red" title="Refused" withCloseButton onClose={onDismiss}>
      {failure}
    </Alert>
  );
}
