/** The operator and tenant console: browser code in browser/, served by the HTTP handler. */
export { createConsoleHandler, type ConsoleHandler, type ConsoleHandlerOptions } from "./console-handler.js";
export { createConsoleAssets, type ConsoleAsset, type ConsoleAssets } from "./console-assets.js";
