/** Set by vite.config.ts at build from the server's OpenAPI document. */
declare const __EXPORT_FORMATS__: readonly string[];
