import { screen, within } from "@testing-library/react";
import { renderUi } from "../test/render";
import { DesktopView } from "./DesktopView";
import { NEW_DESKTOP } from "./desktop";

const PAGES = [
  { name: "Home", components: [{ name: "Agent", kind: "label" as const, fields: ["agentName"] }] },
  {
    name: "Customer",
    components: [
      { name: "Summary", kind: "label" as const, fields: ["fullName"] },
      { name: "Notes", kind: "text_area" as const, fields: [] },
    ],
  },
];

describe("DesktopView", () => {
  it("shows the page with its loaded component marked, the fields, the alerts and the popped URL as a safe link", () => {
    const desktop = {
      fields: { fullName: "Ann Example", balance: 1250.5 },
      page: "Customer",
      loaded: { page: "Customer", component: "Notes" },
      alerts: ["Ann Example is overdue"],
      popped: ["https://crm.example.com/customers/C-1001"],
    };
    renderUi(<DesktopView desktop={desktop} pages={PAGES} />);
    const page = screen.getByLabelText("Page shown");
    expect(within(page).getByText("Customer")).toBeInTheDocument();
    const current = (text: string) => within(page).getByText(text).closest('[aria-current="true"]');
    expect(current("Notes")).not.toBeNull();
    expect(current("Summary")).toBeNull();
    expect(within(page).getByText("fullName: Ann Example")).toBeInTheDocument();
    const fields = screen.getByRole("table", { name: "Data fields" });
    expect(within(fields).getByText("1250.5")).toBeInTheDocument();
    expect(screen.getByText("Ann Example is overdue")).toBeInTheDocument();
    const link = screen.getByRole("link", { name: "https://crm.example.com/customers/C-1001" });
    expect(link).toHaveAttribute("target", "_blank");
    expect(link).toHaveAttribute("rel", "noopener noreferrer");
  });

  it("says when no page is shown and no field is filled", () => {
    renderUi(<DesktopView desktop={NEW_DESKTOP} pages={PAGES} />);
    expect(screen.getByText("No page shown yet")).toBeInTheDocument();
    expect(screen.getByText("None filled yet.")).toBeInTheDocument();
  });
});
