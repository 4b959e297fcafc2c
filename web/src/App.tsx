import { AppShell, Button, Group, Loader, SegmentedControl, Select, Title } from "@mantine/core";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { lazy, Suspense, useEffect, useState } from "react";
import { api, signedIn, unwrap } from "./api/client";
import { SignIn } from "./SignIn";

// The signed-in views load after the sign-in screen has painted, each in a chunk of its own.
const ApiWindow = lazy(() => import("./window/ApiWindow").then((m) => ({ default: m.ApiWindow })));
const DesignerEditor = lazy(() => import("./designers/DesignerEditor").then((m) => ({ default: m.DesignerEditor })));
const AgentPreview = lazy(() => import("./preview/AgentPreview").then((m) => ({ default: m.AgentPreview })));

type View = "apis" | "designers" | "preview";

/** Signed in: the client's API window; otherwise the sign-in screen. */
export function App() {
  const [isSignedIn, setSignedIn] = useState(() => signedIn.key() !== null);
  const queries = useQueryClient();

  useEffect(() => {
    const out = () => {
      setSignedIn(false);
      queries.clear();
    };
    globalThis.addEventListener("callout:signed-out", out);
    return () => globalThis.removeEventListener("callout:signed-out", out);
  }, [queries]);

  if (!isSignedIn) return <SignIn onSignedIn={() => setSignedIn(true)} />;
  return (
    <SignedIn
      onSignOut={() => {
        signedIn.clear();
        queries.clear();
        setSignedIn(false);
      }}
    />
  );
}

function SignedIn({ onSignOut }: { onSignOut: () => void }) {
  const clients = useQuery({ queryKey: ["clients"], queryFn: async () => unwrap(await api.GET("/api/v1/clients")) });
  const [chosen, setChosen] = useState<string | null>(null);
  const client = chosen ?? clients.data?.[0]?.code ?? null;
  const [view, setView] = useState<View>("apis");

  return (
    <AppShell header={{ height: 52 }} navbar={{ width: 320, breakpoint: 0, collapsed: { desktop: view !== "apis", mobile: view !== "apis" } }} padding="md">
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between">
          <Group>
            <Title order={3}>Callout</Title>
            <SegmentedControl
              aria-label="View"
              value={view}
              onChange={(v) => setView(v as View)}
              data={[
                { value: "apis", label: "APIs" },
                { value: "designers", label: "Designers" },
                { value: "preview", label: "Agent preview" },
              ]}
            />
          </Group>
          <Group>
            {clients.data && clients.data.length > 1 && (
              <Select
                aria-label="Client"
                data={clients.data.map((c) => ({ value: c.code, label: c.name }))}
                value={client}
                onChange={setChosen}
                allowDeselect={false}
              />
            )}
            {clients.data?.length === 1 && <Title order={5}>{clients.data[0]?.name}</Title>}
            <Button variant="subtle" onClick={onSignOut}>
              Sign out
            </Button>
          </Group>
        </Group>
      </AppShell.Header>
      <Suspense fallback={<Loader m="xl" />}>
      {!client && <Loader m="xl" />}
      {/* Every view stays mounted, so open tabs, a designer's edits and the contact outlive a
          look elsewhere. */}
      {client && (
        <>
          <div hidden={view !== "apis"}>
            <ApiWindow key={client} client={client} shown={view === "apis"} />
          </div>
          <div hidden={view !== "designers"}>
            <AppShell.Main>
              <DesignerEditor key={client} client={client} />
            </AppShell.Main>
          </div>
          <div hidden={view !== "preview"}>
            <AppShell.Main>
              <AgentPreview key={client} client={client} />
            </AppShell.Main>
          </div>
        </>
      )}
      </Suspense>
    </AppShell>
  );
}
