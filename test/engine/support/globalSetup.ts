/**
 * Finds or builds the Pulumi CLI once for the whole engine suite (`scripts/pulumi-cli.sh`) and hands its
 * folder to the test files. When neither a CLI nor Go is available the script fails, and so does the
 * suite: it never passes by skipping.
 */
import { execFileSync } from "node:child_process";
import * as path from "node:path";
import type { TestProject } from "vitest/node";

declare module "vitest" {
    export interface ProvidedContext {
        /** Folder of the `pulumi` executable (and the dynamic-provider launcher). */
        pulumiBinDir: string;
    }
}

export default function setup(project: TestProject): void {
    const script = path.join(__dirname, "..", "..", "..", "scripts", "pulumi-cli.sh");
    let binDir: string;
    try {
        // stderr goes straight to the terminal: a first build takes minutes and says so.
        binDir = execFileSync("bash", [script], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }).trim();
    } catch {
        throw new Error("the engine suite has no Pulumi CLI: scripts/pulumi-cli.sh failed, its message is above");
    }
    project.provide("pulumiBinDir", binDir);
}
