/**
 * Runs `index.ts` under the project's mocks with a stack file, the way `pulumi up -s <stack>` would hand
 * it its config (the same reader the operator commands use). Tests run the fixture stacks of
 * test/fixtures/; the user's own Pulumi.<stack>.yaml files only get the checks that hold for any stack.
 */
import { join } from "node:path";
import { pulumiConfigOf } from "../../scripts/stackConfig";
import { allRegistered, installMocks, MockOptions, MockWorld } from "./pulumiMocks";

export { pulumiConfigOf };

export type Program = typeof import("../../index");

export const FIXTURES = join(__dirname, "..", "fixtures");

/** The path of a fixture stack: `fixtureStack("three-apps")` is test/fixtures/Pulumi.three-apps.yaml. */
export function fixtureStack(name: string): string {
    return join(FIXTURES, `Pulumi.${name}.yaml`);
}

/** Runs the program with a stack (a name of the project's stacks, or a stack file's path). */
export async function runProgram(
    stack: string,
    options: Omit<MockOptions, "config" | "stack"> = {},
): Promise<{ world: MockWorld; program: Program }> {
    const name = stack.replace(/^.*Pulumi\./, "").replace(/\.yaml$/, "");
    const world = await installMocks({ ...options, stack: name, config: pulumiConfigOf(stack) });
    const program: Program = await import("../../index");
    await allRegistered();
    return { world, program };
}
