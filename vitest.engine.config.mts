import { defineConfig } from "vitest/config";

// The engine suite: the real Pulumi CLI (found or built by scripts/pulumi-cli.sh) drives the project's
// certificate component against Pebble and the local Scaleway and Cloudflare servers. An engine run
// takes seconds, a renewal waits for a short-lived certificate to fall due: one file at a time, long timeouts.
export default defineConfig({
    test: {
        include: ["test/engine/**/*.test.ts"],
        // The provider's package is compiled first (the engine loads it by name), then the CLI is found or built.
        globalSetup: ["test/support/buildProvider.ts", "test/engine/support/globalSetup.ts"],
        pool: "forks",
        fileParallelism: false,
        testTimeout: 240_000,
        hookTimeout: 120_000,
        // Offline from the first command on (the Automation API runs `pulumi version` with the process's environment).
        env: { PULUMI_SKIP_UPDATE_CHECK: "true", PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true" },
        reporters: ["default"],
        silent: "passed-only",
    },
});
