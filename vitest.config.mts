import { configDefaults, defineConfig } from "vitest/config";

// Two cores: run files in forked workers (Pulumi mocks are process-global) and give the
// Pebble-backed tests room, since a real ACME round trip takes seconds, not milliseconds.
export default defineConfig({
    test: {
        include: ["test/**/*.test.ts", "examples/**/test/**/*.test.ts", "policy/**/*.test.ts"],
        // The engine suite has its own config (vitest.engine.config.mts, `npm run test:engine`).
        exclude: [...configDefaults.exclude, "test/engine/**"],
        // The provider's package is compiled first: its tests load it as the engine does.
        globalSetup: ["test/support/buildProvider.ts"],
        pool: "forks",
        maxWorkers: 2,
        testTimeout: 60_000,
        hookTimeout: 60_000,
        reporters: ["default"],
        // The certificate provider logs its progress; show it only for tests that fail.
        silent: "passed-only",
    },
});
