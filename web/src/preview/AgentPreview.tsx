import { Alert, Badge, Button, Grid, Group, Paper, SegmentedControl, Select, Stack, Text, Title } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { api, describe, unwrap } from "../api/client";
import { type Contact, NEW_CONTACT, contextOf } from "./contact";
import { ContactForm } from "./ContactForm";
import { type Desktop, type FireResult, NEW_DESKTOP, applied } from "./desktop";
import { DesktopView } from "./DesktopView";
import { FireTrace } from "./FireTrace";

type Mode = "live" | "mock";

/** The agent preview: plays the agent desktop, fires a designer's events with a contact's
 * context and shows their effects applied, with each condition's and action's trace. */
export function AgentPreview({ client }: { client: string }) {
  const [designerId, setDesignerId] = useState<number | null>(null);
  const [contact, setContact] = useState<Contact>(NEW_CONTACT);
  const [mode, setMode] = useState<Mode>("live");
  const [desktop, setDesktop] = useState<Desktop>(NEW_DESKTOP);
  const [result, setResult] = useState<FireResult | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const [firing, setFiring] = useState<string | null>(null);

  const designers = useQuery({
    queryKey: [client, "designers"],
    queryFn: async () => unwrap(await api.GET("/api/v1/clients/{client}/designers", { params: { path: { client }, query: { limit: 200 } } })),
  });
  const chosen = designerId ?? designers.data?.items[0]?.id ?? null;
  const designer = useQuery({
    queryKey: [client, "designer", chosen, "preview"],
    enabled: chosen !== null,
    // Edited in the designer editor a moment ago: fire what is saved now.
    refetchOnMount: "always",
    queryFn: async () => unwrap(await api.GET("/api/v1/clients/{client}/designers/{designer_id}", { params: { path: { client, designer_id: chosen ?? 0 } } })),
  });

  function reset() {
    setContact(NEW_CONTACT);
    setDesktop(NEW_DESKTOP);
    setResult(null);
    setFailure(null);
  }

  async function fire(event: string) {
    if (chosen === null) return;
    setFiring(event);
    setFailure(null);
    try {
      const fired = unwrap(
        await api.POST("/api/v1/clients/{client}/designers/{designer_id}/events/{event}/fire", {
          params: { path: { client, designer_id: chosen, event } },
          body: { mode, context: contextOf(contact, desktop.fields) },
        }),
      );
      setResult(fired);
      setDesktop((d) => applied(d, fired.effects));
    } catch (error) {
      setFailure(describe(error));
    } finally {
      setFiring(null);
    }
  }

  const events = designer.data?.events ?? [];
  return (
    <Stack>
      <Group justify="space-between" align="flex-end">
        <Group align="flex-end">
          <Select
            label="Designer"
            placeholder={designers.data?.items.length === 0 ? "No designers yet" : "Pick a designer"}
            data={(designers.data?.items ?? []).map((d) => ({ value: String(d.id), label: d.name }))}
            value={chosen !== null ? String(chosen) : null}
            allowDeselect={false}
            onChange={(v) => {
              setDesignerId(Number(v));
              reset();
            }}
          />
          <SegmentedControl
            aria-label="Mode"
            value={mode}
            onChange={(v) => setMode(v as Mode)}
            data={[
              { value: "mock", label: "Mock" },
              { value: "live", label: "Live" },
            ]}
          />
        </Group>
        <Button variant="default" onClick={reset}>
          Reset contact
        </Button>
      </Group>
      {(designers.error || designer.error) && <Alert color="red">{describe(designers.error ?? designer.error)}</Alert>}
      <Paper withBorder p="sm">
        <Title order={5} mb="xs">
          Contact
        </Title>
        <ContactForm contact={contact} onChange={setContact} />
      </Paper>
      <Group gap="xs" role="group" aria-label="Events">
        <Text fw={600} size="sm">
          Fire:
        </Text>
        {events.length === 0 && (
          <Text size="sm" c="dimmed">
            {chosen === null ? "Pick a designer." : "The designer has no events."}
          </Text>
        )}
        {events.map((e) => (
          <Button key={e.name} size="xs" variant={e.type === "system" ? "filled" : "light"} loading={firing === e.name} disabled={firing !== null} onClick={() => fire(e.name)}>
            {e.name}
            {e.type === "user" && (
              <Badge ml={6} size="xs" variant="white">
                user
              </Badge>
            )}
          </Button>
        ))}
      </Group>
      {failure && (
        <Alert color="red" title="Not fired" withCloseButton onClose={() => setFailure(null)}>
          {failure}
        </Alert>
      )}
      <Grid>
        <Grid.Col span={{ base: 12, lg: 6 }}>
          <Title order={4} mb="xs">
            Agent desktop
          </Title>
          <DesktopView desktop={desktop} pages={designer.data?.pages ?? []} />
        </Grid.Col>
        <Grid.Col span={{ base: 12, lg: 6 }}>
          <Title order={4} mb="xs">
            Trace
          </Title>
          {result ? (
            <FireTrace result={result} />
          ) : (
            <Text size="sm" c="dimmed">
              Fire an event to see how each condition and action went.
            </Text>
          )}
        </Grid.Col>
      </Grid>
    </Stack>
  );
}
