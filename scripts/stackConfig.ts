/**
 * Reads a stack's configuration the way `pulumi up -s <stack>` hands it to the program: the project
 * defaults of Pulumi.yaml, then the values of Pulumi.<stack>.yaml, every value a string, and finally the
 * program's own schema. The operator commands use it so they judge a stack by the same rules as the program.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { parse } from "yaml";
import { decodePulumiConfig, parseStackConfig, type StackConfig } from "../components/config";

export const projectRoot = join(__dirname, "..");

export class UnknownStackError extends Error {
    constructor(stack: string, available: readonly string[]) {
        super(`no stack file Pulumi.${stack}.yaml; stacks in this project: ${available.length > 0 ? available.join(", ") : "none"}`);
        this.name = "UnknownStackError";
    }
}

/** Stack names that have a Pulumi.<stack>.yaml in `root`. */
export function availableStacks(root = projectRoot): string[] {
    return readdirSync(root)
        .map((file) => /^Pulumi\.(.+)\.yaml$/.exec(file)?.[1])
        .filter((stack): stack is string => stack !== undefined)
        .sort();
}

/** The config map Pulumi gives the program for `stack`: full keys (`project:key`), string values. */
export function pulumiConfigOf(stack: string, root = projectRoot): Record<string, string> {
    const stackPath = join(root, `Pulumi.${stack}.yaml`);
    if (!existsSync(stackPath)) {
        throw new UnknownStackError(stack, availableStacks(root));
    }
    const project = readYaml(join(root, "Pulumi.yaml")) as { name: string; config?: Record<string, { default?: unknown }> };
    const stackFile = readYaml(stackPath) as { config?: Record<string, unknown> } | null;
    const values: Record<string, unknown> = {};
    for (const [key, declaration] of Object.entries(project.config ?? {})) {
        if (declaration.default !== undefined) {
            values[`${project.name}:${key}`] = declaration.default;
        }
    }
    Object.assign(values, stackFile?.config ?? {});
    return Object.fromEntries(Object.entries(values).map(([key, value]) => [key, typeof value === "string" ? value : JSON.stringify(value)]));
}

export class StackFileError extends Error {
    constructor(file: string, reason: string) {
        super(`${file} is not valid YAML: ${reason}`);
        this.name = "StackFileError";
    }
}

function readYaml(path: string): unknown {
    try {
        return parse(readFileSync(path, "utf8"));
    } catch (error) {
        throw new StackFileError(basename(path), (error as Error).message);
    }
}

/** The validated configuration of `stack`; throws `ConfigError` (naming the keys) when it is invalid. */
export function loadStackConfig(stack: string, root = projectRoot): StackConfig {
    return parseStackConfig(decodePulumiConfig(pulumiConfigOf(stack, root)));
}
