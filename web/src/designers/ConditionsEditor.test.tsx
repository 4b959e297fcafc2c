import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { useState } from "react";
import { renderUi } from "../test/render";
import { ConditionsEditor } from "./ConditionsEditor";
import type { Condition, DesignerPage } from "./draft";

const PAGES: DesignerPage[] = [
  { name: "Home", components: [] },
  { name: "Customer", components: [{ name: "Notes", kind: "text_area", fields: [] }] },
];

const pop = (url: string): Condition["actions"][number] => ({ kind: "pop_url", on_error: "stop", url });

function Held({ initial, seen, errors = {} }: { initial: Condition[]; seen: (c: Condition[]) => void; errors?: Record<string, string> }) {
  const [conditions, setConditions] = useState(initial);
  return (
    <QueryClientProvider client={new QueryClient()}>
      <ConditionsEditor
        client="demo"
        event="In Call"
        conditions={conditions}
        pages={PAGES}
        paths={[]}
        errors={errors}
        onChange={(c) => {
          setConditions(c);
          seen(c);
        }}
      />
    </QueryClientProvider>
  );
}

describe("ConditionsEditor", () => {
  it("reorders conditions, and actions within one, keeping each whole", async () => {
    const seen: Condition[][] = [];
    const first: Condition = { expression: "${call.ani} is empty", stop: false, actions: [pop("https://a.example/"), pop("https://b.example/")] };
    const second: Condition = { expression: "", stop: true, actions: [] };
    renderUi(<Held initial={[first, second]} seen={(c) => seen.push(c)} />);

    expect(screen.getByLabelText("Move In Call condition 1 up")).toBeDisabled();
    await userEvent.click(screen.getByLabelText("Move In Call condition 1 down"));
    expect(seen.at(-1)).toEqual([second, first]);
    expect(screen.getByLabelText("In Call condition 1 expression")).toHaveValue("");
    expect(screen.getByLabelText("In Call condition 2 expression")).toHaveValue("${call.ani} is empty");

    await userEvent.click(screen.getByLabelText("Move In Call condition 2 action 2 up"));
    expect(seen.at(-1)?.[1]?.actions).toEqual([pop("https://b.example/"), pop("https://a.example/")]);
  });

  it("sets the Stop flag, adds a condition and removes one", async () => {
    const seen: Condition[][] = [];
    renderUi(<Held initial={[{ expression: "", stop: false, actions: [] }]} seen={(c) => seen.push(c)} />);
    await userEvent.click(screen.getByLabelText("In Call condition 1 stop"));
    expect(seen.at(-1)).toEqual([{ expression: "", stop: true, actions: [] }]);
    await userEvent.click(screen.getByRole("button", { name: "Add condition" }));
    expect(seen.at(-1)).toHaveLength(2);
    await userEvent.click(screen.getByLabelText("Remove In Call condition 1"));
    expect(seen.at(-1)).toEqual([{ expression: "", stop: false, actions: [] }]);
  });

  it("shows a save's refusal at the condition and the action it names", () => {
    const errors = {
      "[0].expression": "expected a ${path}; found the end (line 1, column 12)",
      "[0].actions[0].url": "must start with a fixed scheme and host, e.g. https://crm.example/",
    };
    renderUi(<Held initial={[{ expression: "${call.ani}", stop: false, actions: [pop("${call.url}")] }]} seen={() => {}} errors={errors} />);
    expect(screen.getByText(errors["[0].expression"])).toBeInTheDocument();
    expect(screen.getByText(errors["[0].actions[0].url"])).toBeInTheDocument();
  });

  it("changes an action's kind to one whose target is picked from the designer's pages", async () => {
    const seen: Condition[][] = [];
    renderUi(<Held initial={[{ expression: "", stop: false, actions: [pop("https://a.example/")] }]} seen={(c) => seen.push(c)} />);
    await userEvent.click(screen.getByRole("combobox", { name: "In Call condition 1 action 1 kind" }));
    // jsdom never ends the dropdown's opening transition, so its options count as hidden.
    await userEvent.click(await screen.findByRole("option", { name: "COMPONENT LOAD", hidden: true }));
    expect(seen.at(-1)?.[0]?.actions).toEqual([{ kind: "component_load", on_error: "stop", page: "Home", component: "" }]);
  });
});
