import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { useState } from "react";
import { MASK } from "../api/client";
import { renderUi } from "../test/render";
import { SecretInput } from "./SecretInput";

function Held({ initial, seen }: { initial: string | null; seen: (v: string | null) => void }) {
  const [value, setValue] = useState(initial);
  return <SecretInput label="Password" value={value} onChange={(v) => { setValue(v); seen(v); }} />;
}

describe("SecretInput", () => {
  it("shows a stored secret as set, never its value, until Replace asks for a new one", async () => {
    const seen: (string | null)[] = [];
    renderUi(<Held initial={MASK} seen={(v) => seen.push(v)} />);
    expect(screen.getByLabelText("Password is set")).toHaveTextContent("set");
    expect(screen.queryByDisplayValue(MASK)).toBeNull();
    await userEvent.click(screen.getByRole("button", { name: "Replace" }));
    await userEvent.type(screen.getByLabelText("Password"), "n3w");
    expect(seen.at(-1)).toBe("n3w");
  });

  it("Remove drops the stored secret", async () => {
    const seen: (string | null)[] = [];
    renderUi(<Held initial={MASK} seen={(v) => seen.push(v)} />);
    await userEvent.click(screen.getByRole("button", { name: "Remove" }));
    expect(seen).toEqual([null]);
    expect(screen.getByLabelText("Password")).toHaveValue("");
  });
});
