/**
 * Runs `index.ts` under mocks with a real stack file, the way `pulumi up -s <stack>` would hand it
 * its config: project defaults from Pulumi.yaml, then the stack's values, every value a string.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { allRegistered, installMocks, MockWorld } from "./pulumiMocks";

export const projectRoot = join(__dirname, "..", "..");

export function pulumiConfigOf(stack: string): Record<string, string> {
    const project = parse(readFileSync(join(projectRoot, "Pulumi.yaml"), "utf8")) as { name: string; config: Record<string, { default?: unknown }> };
    const stackFile = parse(readFileSync(join(projectRoot, `Pulumi.${stack}.yaml`), "utf8")) as { config: Record<string, unknown> };
    const values: Record<string, unknown> = {};
    for (const [key, declaration] of Object.entries(project.config)) {
        if (declaration.default !== undefined) {
            values[`${project.name}:${key}`] = declaration.default;
        }
    }
    Object.assign(values, stackFile.config);
    return Object.fromEntries(Object.entries(values).map(([key, value]) => [key, typeof value === "string" ? value : JSON.stringify(value)]));
}

export type Program = typeof import("../../index");

export async function runProgram(stack: string, options: { preview?: boolean } = {}): Promise<{ world: MockWorld; program: Program }> {
    const world = await installMocks({ stack, preview: options.preview, config: pulumiConfigOf(stack) });
    const program: Program = await import("../../index");
    await allRegistered();
    return { world, program };
}
