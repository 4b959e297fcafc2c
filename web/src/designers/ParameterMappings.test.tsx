import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { useState } from "react";
import { renderUi } from "../test/render";
import type { Mapping } from "./draft";
import type { Parameter } from "./mappings";
import { ParameterMappings } from "./ParameterMappings";

const PARAMETERS: Parameter[] = [
  { name: "customerId", type: "string", required: true, description: "", secret: false },
  { name: "limit", type: "number", required: false, default: 10, description: "", secret: false },
];

// The path box completes, so its listbox bears its name too: the combobox is the box typed in.
const pathInput = (name: string) => screen.getByRole("combobox", { name: `${name} path` });

function Held({ initial, seen, errors = {} }: { initial: Mapping[]; seen: (m: Mapping[]) => void; errors?: Record<string, string> }) {
  const [mappings, setMappings] = useState(initial);
  return (
    <ParameterMappings
      parameters={PARAMETERS}
      mappings={mappings}
      errors={errors}
      onChange={(m) => {
        setMappings(m);
        seen(m);
      }}
    />
  );
}

describe("ParameterMappings", () => {
  it("maps a parameter from a context path, then switches it to a typed literal", async () => {
    const seen: Mapping[][] = [];
    renderUi(<Held initial={[]} seen={(m) => seen.push(m)} />);
    expect(screen.queryByRole("combobox", { name: "customerId path" })).toBeNull();

    await userEvent.click(screen.getAllByText("Context path")[0]!);
    await userEvent.click(pathInput("customerId"));
    await userEvent.paste("call.id");
    expect(seen.at(-1)).toEqual([{ name: "customerId", path: "call.id", value: null }]);

    await userEvent.click(screen.getAllByText("Literal")[1]!);
    await userEvent.type(screen.getByLabelText("limit value"), "25");
    expect(seen.at(-1)).toEqual([
      { name: "customerId", path: "call.id", value: null },
      { name: "limit", path: null, value: 25 },
    ]);

    await userEvent.click(screen.getAllByText("Literal")[0]!);
    expect(screen.queryByRole("combobox", { name: "customerId path" })).toBeNull();
    await userEvent.type(screen.getByLabelText("customerId value"), "C-1001");
    expect(seen.at(-1)?.[0]).toEqual({ name: "customerId", path: null, value: "C-1001" });

    await userEvent.click(screen.getAllByText("Not mapped")[1]!);
    expect(seen.at(-1)).toEqual([{ name: "customerId", path: null, value: "C-1001" }]);
  });

  it("shows each error at the mapping it names, and a mapping the request no longer declares", () => {
    const mappings: Mapping[] = [
      { name: "old", path: "call.id", value: null },
      { name: "customerId", path: "cal.id", value: null },
    ];
    renderUi(<Held initial={mappings} seen={() => {}} errors={{ "[1].path": "must start with one of account, call", "[0].name": "the request has no parameter 'old'" }} />);
    expect(pathInput("customerId")).toHaveValue("cal.id");
    expect(screen.getByText("must start with one of account, call")).toBeInTheDocument();
    expect(screen.getByText("not a parameter of this request")).toBeInTheDocument();
    expect(screen.getByText("the request has no parameter 'old'")).toBeInTheDocument();
  });
});
