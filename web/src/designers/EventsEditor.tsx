import { Accordion, Badge, Button, Group, SegmentedControl, Select, SimpleGrid, Stack, Text, TextInput } from "@mantine/core";
import { useState } from "react";
import { ErrorText } from "../common/ErrorText";
import { RemoveButton } from "../common/RemoveButton";
import { under } from "../common/Rows";
import { ConditionsEditor } from "./ConditionsEditor";
import { type DesignerEvent, type Draft, SYSTEM_EVENTS, blankEvent } from "./draft";
import { choices, itemErrors, openAfterRemoval, removed, replaced } from "./lists";

interface Props {
  client: string;
  draft: Draft;
  onChange: (events: DesignerEvent[]) => void;
  /** Errors under the designer's `events`. */
  errors: Record<string, string>;
  paths: readonly string[];
}

/** The designer's events: a system event by its type, or a user event raised by a
 * component, each with its ordered conditions and their actions. */
export function EventsEditor({ client, draft, onChange, errors, paths }: Props) {
  const events = draft.events;
  const pageNames = choices(draft.pages.map((p) => p.name));
  // The events shown open, by position: an event just added opens, as its next step is in it.
  const [open, setOpen] = useState<string[]>([]);
  return (
    <Stack gap="sm">
      <Group justify="space-between">
        <Text fw={600}>Events</Text>
        <Button
          size="compact-xs"
          variant="light"
          onClick={() => {
            onChange([...events, blankEvent(draft)]);
            setOpen((o) => [...o, String(events.length)]);
          }}
        >
          Add event
        </Button>
      </Group>
      {events.length === 0 && (
        <Text size="sm" c="dimmed">
          No events yet.
        </Text>
      )}
      <Accordion multiple variant="separated" value={open} onChange={setOpen}>
        {events.map((event, index) => {
          const found = itemErrors(errors, index);
          const label = event.name || `Event ${index + 1}`;
          const set = (patch: Partial<DesignerEvent>) => onChange(replaced(events, index, { ...event, ...patch }));
          const components = choices(draft.pages.find((p) => p.name === event.page)?.components.map((c) => c.name) ?? []);
          return (
            <Accordion.Item key={index} value={String(index)}>
              <Accordion.Control aria-label={`Event ${label}`}>
                <Group gap="xs">
                  <Text fw={500}>{label}</Text>
                  <Badge size="sm" variant="light" color={event.type === "system" ? "blue" : "grape"}>
                    {event.type}
                  </Badge>
                  <Text size="sm" c="dimmed">
                    {event.conditions.length} condition{event.conditions.length === 1 ? "" : "s"}
                  </Text>
                  {Object.keys(found).length > 0 && (
                    <Badge size="sm" color="red">
                      errors
                    </Badge>
                  )}
                </Group>
              </Accordion.Control>
              <Accordion.Panel>
                <Stack gap="sm">
                  <Group justify="space-between" align="flex-end">
                    <SegmentedControl
                      aria-label={`${label} type`}
                      data={[
                        { value: "system", label: "System" },
                        { value: "user", label: "User" },
                      ]}
                      value={event.type}
                      onChange={(type) =>
                        type === "system"
                          ? set({ type, component: null, name: SYSTEM_EVENTS.find((n) => n === event.name) ?? SYSTEM_EVENTS[0] })
                          : set({ type: "user", component: components[0] ?? "" })
                      }
                    />
                    <RemoveButton
                      label={`Remove event ${label}`}
                      onClick={() => {
                        onChange(removed(events, index));
                        setOpen((o) => openAfterRemoval(o, index));
                      }}
                    />
                  </Group>
                  <SimpleGrid cols={3}>
                    {event.type === "system" ? (
                      <Select label="Event" aria-label={`${label} name`} data={[...SYSTEM_EVENTS]} value={event.name || null} error={found.name} allowDeselect={false} onChange={(name) => set({ name: name ?? "" })} />
                    ) : (
                      <TextInput label="Event" aria-label={`${label} name`} required value={event.name} error={found.name} onChange={(e) => set({ name: e.currentTarget.value })} />
                    )}
                    <Select
                      label="Source page"
                      aria-label={`${label} page`}
                      data={pageNames}
                      value={event.page || null}
                      error={found.page}
                      allowDeselect={false}
                      onChange={(page) => set({ page: page ?? "", component: event.type === "user" ? "" : null })}
                    />
                    {event.type === "user" && (
                      <Select label="Component" aria-label={`${label} component`} data={components} value={event.component || null} error={found.component} allowDeselect={false} onChange={(component) => set({ component })} />
                    )}
                  </SimpleGrid>
                  <ConditionsEditor client={client} conditions={event.conditions} onChange={(conditions) => set({ conditions })} errors={under(found, "conditions")} pages={draft.pages} paths={paths} event={label} />
                  <ErrorText message={found[""]} />
                </Stack>
              </Accordion.Panel>
            </Accordion.Item>
          );
        })}
      </Accordion>
      <ErrorText message={errors[""]} />
    </Stack>
  );
}
