import js from "@eslint/js";
import tseslint from "typescript-eslint";

// The layout's dependency rules (docs/decisions-layout.md), as lint errors. Each src/ file matches
// exactly one of the blocks below, which lists what it may not import.
const generated = { regex: "(^|/)generated/", message: "Only rio/ and scheduler/ import generated/: protobuf types stop at that boundary." };
const api = { regex: "(^|/)api/", message: "Only cli/ and the composition root (main.ts) import api/; the service speaks to it through service/port.ts." };
const serviceBeyondPort = { regex: "(^|/)service/(?!port\\.js$)", message: "api/ knows the service only through its port, service/port.ts." };
const outsideCore = { regex: "^(?!\\./)", message: "core/ is pure: it imports only its own files (no node:*, no packages, nothing else of src/)." };
const restrict = (...patterns) => ({ "no-restricted-imports": ["error", { patterns }] });
const boundaries = [
  // Unit tests beside core's rules import vitest.
  { files: ["src/core/**/*.ts"], ignores: ["src/core/**/*.test.ts"], rules: restrict(outsideCore) },
  { files: ["src/rio/**/*.ts", "src/scheduler/**/*.ts"], rules: restrict(api) },
  { files: ["src/api/**/*.ts"], rules: restrict(generated, serviceBeyondPort) },
  { files: ["src/cli/**/*.ts", "src/main.ts"], rules: restrict(generated) },
  {
    files: ["src/**/*.ts"],
    ignores: ["src/core/**", "src/rio/**", "src/scheduler/**", "src/api/**", "src/cli/**", "src/main.ts"],
    rules: restrict(generated, api),
  },
];

export default tseslint.config(
  { ignores: ["generated/**", "node_modules/**", "examples/**/*.py"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    // Plain JavaScript entry points run on Node.
    files: ["**/*.js"],
    languageOptions: { globals: { process: "readonly", console: "readonly" } },
  },
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "no-constant-condition": ["error", { checkLoops: false }],
    },
  },
  ...boundaries,
);
