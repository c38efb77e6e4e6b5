/**
 * Runs `index.ts` under mocks with a real stack file, the way `pulumi up -s <stack>` would hand it
 * its config (the same reader the operator commands use).
 */
import { pulumiConfigOf } from "../../scripts/stackConfig";
import { allRegistered, installMocks, MockWorld } from "./pulumiMocks";

export { pulumiConfigOf };

export type Program = typeof import("../../index");

export async function runProgram(stack: string, options: { preview?: boolean } = {}): Promise<{ world: MockWorld; program: Program }> {
    const world = await installMocks({ stack, preview: options.preview, config: pulumiConfigOf(stack) });
    const program: Program = await import("../../index");
    await allRegistered();
    return { world, program };
}
