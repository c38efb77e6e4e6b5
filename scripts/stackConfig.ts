/**
 * Reads a stack's configuration the way `pulumi up -s <stack>` hands it to the program: the project
 * defaults of Pulumi.yaml, then the values of Pulumi.<stack>.yaml, every value a string, and finally the
 * program's own schema. The operator commands use it so they judge a stack by the same rules as the program.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { parse } from "yaml";
import { stackConfigFromPulumi, type StackConfig } from "../components/config";

export const projectRoot = join(__dirname, "..");

/** A stack that cannot be found: no such stack file, or one outside any Pulumi project. */
export class UnknownStackError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "UnknownStackError";
    }
}

/** Stack names that have a Pulumi.<stack>.yaml in `root`. */
export function availableStacks(root = projectRoot): string[] {
    return (existsSync(root) ? readdirSync(root) : [])
        .map((file) => /^Pulumi\.(.+)\.yaml$/.exec(file)?.[1])
        .filter((stack): stack is string => stack !== undefined)
        .sort();
}

export interface StackFile {
    /** The stack's name: `prod` for `Pulumi.prod.yaml`. */
    name: string;
    path: string;
    /** The folder of the project file (Pulumi.yaml) the stack belongs to. */
    projectDir: string;
}

/** The first folder from `dir` upwards that holds a Pulumi.yaml, as Pulumi finds a project. */
function projectDirOf(dir: string): string {
    for (let current = resolve(dir); ; current = dirname(current)) {
        if (existsSync(join(current, "Pulumi.yaml"))) {
            return current;
        }
        if (dirname(current) === current) {
            throw new UnknownStackError(
                `no Pulumi.yaml in ${dir} or above it: a stack file belongs to a Pulumi project, beside its Pulumi.yaml`,
            );
        }
    }
}

function isStackPath(stack: string): boolean {
    return stack.endsWith(".yaml") || stack.includes("/");
}

/** The stack file as the user named it: `Pulumi.<name>.yaml` for a name, the path as given otherwise. */
export function stackFileLabel(stack: string): string {
    return isStackPath(stack) ? stack : `Pulumi.${stack}.yaml`;
}

/**
 * Finds a stack: a name (`prod` reads `<root>/Pulumi.prod.yaml`), or the path of a stack file anywhere
 * (`test/fixtures/Pulumi.three-apps.yaml`), whose project is the nearest Pulumi.yaml above it.
 */
export function findStackFile(stack: string, root = projectRoot): StackFile {
    const isPath = isStackPath(stack);
    const path = isPath ? resolve(stack) : join(root, `Pulumi.${stack}.yaml`);
    if (!existsSync(path)) {
        const available = availableStacks(isPath ? dirname(path) : root);
        throw new UnknownStackError(
            `no stack file ${stackFileLabel(stack)}; stacks in this project: ${available.length > 0 ? available.join(", ") : "none"}`,
        );
    }
    return {
        name: basename(path)
            .replace(/^Pulumi\./, "")
            .replace(/\.yaml$/, ""),
        path,
        projectDir: projectDirOf(dirname(path)),
    };
}

/** The config map Pulumi gives the program for `stack`: full keys (`project:key`), string values. */
export function pulumiConfigOf(stack: string, root = projectRoot): Record<string, string> {
    const { path: stackPath, projectDir } = findStackFile(stack, root);
    const project = readYaml(join(projectDir, "Pulumi.yaml")) as { name: string; config?: Record<string, { default?: unknown }> };
    const stackFile = readYaml(stackPath) as { config?: Record<string, unknown> } | null;
    const values: Record<string, unknown> = {};
    for (const [key, declaration] of Object.entries(project.config ?? {})) {
        if (declaration.default !== undefined) {
            values[`${project.name}:${key}`] = declaration.default;
        }
    }
    // As the CLI reads a stack file: a key without a namespace is the project's.
    for (const [key, value] of Object.entries(stackFile?.config ?? {})) {
        values[key.includes(":") ? key : `${project.name}:${key}`] = value;
    }
    return Object.fromEntries(
        Object.entries(values).map(([key, value]) => [key, typeof value === "string" ? value : JSON.stringify(value)]),
    );
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

/** The validated configuration of `stack` (a name or a stack file's path); throws `ConfigError` (naming the keys) when it is invalid. */
export function loadStackConfig(stack: string, root = projectRoot): StackConfig {
    return stackConfigFromPulumi(pulumiConfigOf(stack, root));
}
