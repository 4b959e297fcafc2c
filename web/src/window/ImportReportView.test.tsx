import { screen } from "@testing-library/react";
import { renderUi } from "../test/render";
import { ImportReportView } from "./ImportReportView";

describe("ImportReportView", () => {
  it("puts the secrets to enter first, and lists what was not carried where it was", () => {
    renderUi(
      <ImportReportView
        report={{
          dry_run: true,
          formats: ["openapi"],
          apis: [
            { source: "tictactoe.yaml", name: "Tic Tac Toe", action: "created", id: null, requests: 3, missing_secrets: ["authorization.token"] },
            { source: "crm.yaml", name: "CRM", action: "skipped", id: null, requests: 1, missing_secrets: ["headers.x-api-key"] },
          ],
          services_created: ["Games"],
          notes: [{ source: "tictactoe.yaml", where: "paths./board.get.responses.200.links", message: "links (markSquare) are not carried" }],
        }}
      />,
    );
    const secrets = screen.getByRole("alert", { name: "Secrets to enter" });
    expect(secrets).toHaveTextContent("Tic Tac Toe: authorization.token");
    expect(secrets).not.toHaveTextContent("x-api-key"); // a skipped API writes nothing to fill in
    expect(screen.getByRole("table", { name: "Imported APIs" })).toHaveTextContent("skipped");
    expect(screen.getByText("Services created: Games")).toBeInTheDocument();
    expect(screen.getByRole("table", { name: "Not carried" })).toHaveTextContent("paths./board.get.responses.200.links");
  });
});
