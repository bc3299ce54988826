import { defineConfig } from "vitest/config";

// Integration tests start real Nix builds, gRPC servers and WebSocket routers; on a 2-core machine
// they are run a few files at a time with generous timeouts rather than all at once.
export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    setupFiles: ["test/helpers/setup-env.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    maxWorkers: 2,
    fileParallelism: true,
    reporters: ["default"],
  },
});
