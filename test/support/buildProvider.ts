/**
 * Vitest global setup of both suites: compiles the certificate provider's package before any test runs.
 * The provider tests, the sandbox and the engine load the provider the way the engine does, by package name
 * from its compiled `dist/`; without this a test run after an edit of `components/certificate/` would
 * exercise the previous build.
 */
import { execFileSync } from "node:child_process";
import * as path from "node:path";

export default function setup(): void {
    const root = path.join(__dirname, "..", "..");
    execFileSync("npm", ["run", "--silent", "build"], { cwd: root, stdio: ["ignore", "inherit", "inherit"] });
}
