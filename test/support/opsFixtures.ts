/**
 * A throwaway project folder for the operator commands: the project's Pulumi.yaml beside the fixture
 * stacks of test/fixtures/ops, so tests never read the user's own stack files.
 */
import { copyFileSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { projectRoot } from "../../scripts/stackConfig";

export const OPS_FIXTURES = join(projectRoot, "test", "fixtures", "ops");

export interface FixtureRoot {
    root: string;
    remove(): void;
}

export function opsFixtureRoot(): FixtureRoot {
    const root = mkdtempSync(join(tmpdir(), "ops-fixture-"));
    copyFileSync(join(projectRoot, "Pulumi.yaml"), join(root, "Pulumi.yaml"));
    for (const file of readdirSync(OPS_FIXTURES).filter((name) => /^Pulumi\..+\.yaml$/.test(name))) {
        copyFileSync(join(OPS_FIXTURES, file), join(root, file));
    }
    return { root, remove: () => rmSync(root, { recursive: true, force: true }) };
}
