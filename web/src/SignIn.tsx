import { Alert, Button, Center, Paper, PasswordInput, Stack, Text, Title } from "@mantine/core";
import { useState } from "react";
import { api, describe, signedIn, unwrap } from "./api/client";

/** Asks for an API key and keeps it for this tab's session once the server accepts it. */
export function SignIn({ onSignedIn }: { onSignedIn: () => void }) {
  const [key, setKey] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function signIn(event: React.FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    signedIn.set(key.trim());
    try {
      unwrap(await api.GET("/api/v1/clients"));
      onSignedIn();
    } catch (refused) {
      signedIn.clear();
      setError(describe(refused));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Center h="100vh">
      <Paper withBorder shadow="sm" p="xl" w={420}>
        <form onSubmit={signIn}>
          <Stack>
            <Title order={2}>Callout</Title>
            <Text c="dimmed" size="sm">
              Sign in with an API key: the first make serve (callout init) printed the demo client's admin key.
            </Text>
            <PasswordInput label="API key" value={key} onChange={(e) => setKey(e.currentTarget.value)} required autoFocus />
            {error && (
              <Alert color="red" title="Not signed in">
                {error}
              </Alert>
            )}
            <Button type="submit" loading={busy} disabled={!key.trim()}>
              Sign in
            </Button>
          </Stack>
        </form>
      </Paper>
    </Center>
  );
}
