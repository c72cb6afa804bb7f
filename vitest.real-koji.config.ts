import { defineConfig } from "vitest/config";

/**
 * `npm run test:real-koji`: the end-to-end scenarios against a real Koji hub (REALHUB_STATE, REALHUB_PORT), through
 * the built service. Files run one after another: they share the one hub, and a slow CGImport is what some measure.
 */
export default defineConfig({
  test: {
    include: ["test/real-koji/**/*.test.ts"],
    pool: "forks",
    fileParallelism: false,
    testTimeout: 180_000,
    hookTimeout: 180_000,
    globalSetup: ["test/support/global-setup.ts"],
  },
});
