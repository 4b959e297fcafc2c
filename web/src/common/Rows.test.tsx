import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { useState } from "react";
import { MASK } from "../api/client";
import { renderUi } from "../test/render";
import { type Row, Rows, under } from "./Rows";

function Held({ initial, seen, errors = {} }: { initial: Row[]; seen: (rows: Row[]) => void; errors?: Record<string, string> }) {
  const [rows, setRows] = useState(initial);
  return <Rows label="Headers" rows={rows} secrets errors={errors} blank={{ name: "", value: "", enabled: true, secret: false }} onChange={(r) => { setRows(r); seen(r); }} />;
}

describe("Rows", () => {
  it("adds, edits and removes rows in order", async () => {
    const seen: Row[][] = [];
    renderUi(<Held initial={[{ name: "Accept", value: "application/json", enabled: true }]} seen={(r) => seen.push(r)} />);
    await userEvent.click(screen.getByRole("button", { name: "Add header" }));
    await userEvent.type(screen.getByLabelText("header 2 name"), "X-Tenant");
    await userEvent.click(screen.getByLabelText("Remove header 1"));
    expect(seen.at(-1)).toEqual([{ name: "X-Tenant", value: "", enabled: true, secret: false }]);
  });

  it("shows a secret header's stored value as set, and each error at its row", () => {
    renderUi(<Held initial={[{ name: "X-Api-Key", value: MASK, secret: true }]} seen={() => {}} errors={under({ "headers[0].name": "is not a valid header name" }, "headers")} />);
    expect(screen.queryByDisplayValue(MASK)).toBeNull();
    expect(screen.getByText("set")).toBeInTheDocument();
    expect(screen.getByText("is not a valid header name")).toBeInTheDocument();
  });
});
