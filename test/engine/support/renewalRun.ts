/**
 * The scheduled renewal run of `.github/workflows/renewal.yml`, in its order, under the real CLI:
 * `pulumi refresh`, `pulumi preview --json` into a plan file, the renewal guard as the workflow runs it
 * (`npm run --silent renewal-guard -- --plan <file> --targets <file>`), and only when the guard exits 0 with
 * targets, `pulumi up --target <urn>...` (`--skip-preview`, as the Automation API's `up` always passes).
 */
import { execFile } from "node:child_process";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import * as path from "node:path";
import type { EngineEvent, PreviewOptions, RefreshResult, Stack, UpResult } from "@pulumi/pulumi/automation";
import { REPOSITORY } from "./engine";

/**
 * `pulumi preview --json` on a stack of an inline program: the CLI's own JSON document (its stdout).
 * The Automation API has no `json` option, so `--json` goes through the workspace's documented hook for
 * extra CLI arguments (`serializeArgsForOp`, appended to the stack's commands; unused by `LocalWorkspace`),
 * for this one command. The CLI then runs `pulumi preview --client=<the inline program> --json`.
 */
export async function previewJson(stack: Stack, options: PreviewOptions = {}): Promise<string> {
    const workspace = stack.workspace;
    const ownArgs = workspace.serializeArgsForOp.bind(workspace);
    workspace.serializeArgsForOp = async (stackName) => [...(await ownArgs(stackName)), "--json"];
    try {
        return (await stack.preview(options)).stdout;
    } finally {
        workspace.serializeArgsForOp = ownArgs;
    }
}

export interface GuardRun {
    exitCode: number;
    stdout: string;
    stderr: string;
}

/** `npm run --silent renewal-guard -- <args>` in the repository, as the workflow runs it. */
export function renewalGuardCli(args: string[]): Promise<GuardRun> {
    return new Promise((resolve, reject) => {
        execFile(
            "npm",
            ["run", "--silent", "renewal-guard", "--", ...args],
            { cwd: REPOSITORY, encoding: "utf8" },
            (error, stdout, stderr) => {
                const exitCode = error === null ? 0 : error.code;
                if (typeof exitCode !== "number") {
                    reject(error ?? new Error("renewal-guard did not exit"));
                    return;
                }
                resolve({ exitCode, stdout, stderr });
            },
        );
    });
}

export interface EngineStep {
    op: string;
    urn: string;
}

export interface RenewalRun {
    refresh: RefreshResult;
    /** The `pulumi preview --json` document, parsed. */
    plan: unknown;
    guard: GuardRun;
    /** The URNs the guard wrote to its targets file. */
    targets: string[];
    /** The targeted `up` and the steps the engine ran in it; absent when the guard refused or nothing was due. */
    up?: UpResult;
    upSteps: EngineStep[];
}

/** One renewal run of `stack`, its plan and targets files in `runDir`; policy packs as `--policy-pack`. */
export async function renewalRun(stack: Stack, runDir: string, policyPacks: string[] = []): Promise<RenewalRun> {
    await mkdir(runDir, { recursive: true });
    const planFile = path.join(runDir, "plan.json");
    const targetsFile = path.join(runDir, "targets.txt");
    const refresh = await stack.refresh();
    const planText = await previewJson(stack, { policyPacks });
    await writeFile(planFile, planText);
    const guard = await renewalGuardCli(["--plan", planFile, "--targets", targetsFile]);
    const targets = guard.exitCode === 0 ? (await readFile(targetsFile, "utf8")).split("\n").filter((line) => line.length > 0) : [];
    const run: RenewalRun = { refresh, plan: JSON.parse(planText) as unknown, guard, targets, upSteps: [] };
    if (guard.exitCode === 0 && targets.length > 0) {
        const onEvent = (event: EngineEvent) => {
            const metadata = event.resourcePreEvent?.metadata;
            if (metadata) {
                run.upSteps.push({ op: metadata.op, urn: metadata.urn });
            }
        };
        run.up = await stack.up({ target: targets, policyPacks, onEvent });
    }
    return run;
}
