import react from "@vitejs/plugin-react";
import { defineConfig } from "vitest/config";
import openapi from "./openapi.json" with { type: "json" };

interface Parameter {
  name: string;
  schema: { enum?: string[] };
}

/** The formats an API is exported in, from the OpenAPI document generated before a build
 * (`callout openapi`): the Export menu offers what the server writes. */
function exportFormats(): string[] {
  const parameters = openapi.paths["/api/v1/clients/{client}/apis/{api_id}/export"].get.parameters as Parameter[];
  const formats = parameters.find((p) => p.name === "format")?.schema.enum;
  if (!formats) throw new Error("openapi.json: GET .../apis/{api_id}/export has no format enum");
  return formats;
}

// The app is served by `callout serve` at `/`, beside the REST API under /api/v1.
// `npm run dev` proxies the API to a running `callout serve` on the default port.
export default defineConfig({
  plugins: [react()],
  define: { __EXPORT_FORMATS__: JSON.stringify(exportFormats()) },
  server: { proxy: { "/api": "http://127.0.0.1:8000" } },
  build: {
    outDir: "dist",
    // Minified size; the goal is the gzipped main chunk under 500 kB (about 190 kB today).
    chunkSizeWarningLimit: 800,
    // The code editor is the heaviest part and only a request tab needs it: its own chunk.
    rollupOptions: {
      output: {
        manualChunks: (id) => (id.includes("@codemirror") || id.includes("@uiw") ? "editor" : undefined),
      },
    },
  },
  test: {
    environment: "jsdom",
    setupFiles: ["./src/test/setup.ts"],
    css: false,
    globals: true,
  },
});
