/**
 * The real Pulumi engine, offline: the CLI found or built by `scripts/pulumi-cli.sh`, a file backend and
 * `PULUMI_HOME` in a temporary folder, a passphrase secrets provider, no update check and no plugin
 * download. Programs are Automation API inline programs: the Node.js language host is not served by the
 * Go module proxy, and an inline program needs only the `pulumi` binary (plus the dynamic-provider launcher
 * beside it for our certificate resource).
 */
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { LocalWorkspace, type OpMap, PulumiCommand, type PulumiFn, type Stack } from "@pulumi/pulumi/automation";
import { inject } from "vitest";

const execFileAsync = promisify(execFile);

export const REPOSITORY = path.resolve(__dirname, "..", "..", "..");
const PASSPHRASE = "engine-suite-passphrase";

export interface Engine {
    /** Root of everything this engine writes: `home/` (PULUMI_HOME), `state/` (file backend), `tmp/`, projects. */
    root: string;
    /**
     * A stack of an inline program in project folder `workDir` (given a `node_modules` link to the
     * repository's, so the engine's dynamic-provider launcher resolves `@pulumi/pulumi` from it).
     */
    stack(options: StackOptions): Promise<Stack>;
    /** Runs the CLI itself (not through the Automation API) in `cwd` with the engine's environment; its stdout. */
    cli(args: string[], cwd: string): Promise<string>;
    /** Every file the CLI and its plugins wrote under PULUMI_HOME, TMPDIR and the file backend, as text. */
    writtenFiles(): Promise<string[]>;
    remove(): Promise<void>;
}

export interface StackOptions {
    projectName: string;
    stackName: string;
    program: PulumiFn;
    /** Project folder; default `<root>/projects/<projectName>`. */
    workDir?: string;
    /** Use the `Pulumi.yaml` already in `workDir` instead of writing one for `projectName`. */
    ownProjectFile?: boolean;
    /** `workDir` resolves its packages itself (its or a parent folder's `node_modules`): no link to the repository's. */
    ownNodeModules?: boolean;
}

/** The CLI's folder, provided by the suite's global setup; on PATH first, so the engine finds its launcher there too. */
async function pulumiCommand(): Promise<PulumiCommand> {
    const binDir = inject("pulumiBinDir");
    if (!binDir) {
        throw new Error("the engine suite's global setup did not provide the Pulumi CLI (scripts/pulumi-cli.sh)");
    }
    if (!(process.env.PATH ?? "").split(path.delimiter).includes(binDir)) {
        process.env.PATH = `${binDir}${path.delimiter}${process.env.PATH ?? ""}`;
    }
    return PulumiCommand.get();
}

/** Links the repository's node_modules into a project folder (the engine starts plugins there). */
export async function linkNodeModules(workDir: string): Promise<void> {
    await mkdir(workDir, { recursive: true });
    await symlink(path.join(REPOSITORY, "node_modules"), path.join(workDir, "node_modules"), "dir").catch(
        (error: NodeJS.ErrnoException) => {
            if (error.code !== "EEXIST") {
                throw error;
            }
        },
    );
}

export async function startEngine(worldEnv: Record<string, string> = {}): Promise<Engine> {
    const root = await mkdtemp(path.join(os.tmpdir(), "engine-suite-"));
    const home = path.join(root, "home");
    const state = path.join(root, "state");
    const tmp = path.join(root, "tmp");
    await Promise.all([mkdir(home), mkdir(state), mkdir(tmp)]);
    const backendUrl = `file://${state}`;
    const env: Record<string, string> = {
        ...worldEnv,
        PULUMI_HOME: home,
        PULUMI_BACKEND_URL: backendUrl,
        PULUMI_CONFIG_PASSPHRASE: PASSPHRASE,
        PULUMI_SKIP_UPDATE_CHECK: "true",
        PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
        PULUMI_DISABLE_REGISTRY_RESOLVE: "true",
        PULUMI_SKIP_CONFIRMATIONS: "true",
        TMPDIR: tmp,
    };
    const command = await pulumiCommand();
    return {
        root,
        async stack(options) {
            const workDir = options.workDir ?? path.join(root, "projects", options.projectName);
            if (!options.ownNodeModules) {
                await linkNodeModules(workDir);
            }
            return LocalWorkspace.createOrSelectStack(
                { projectName: options.projectName, stackName: options.stackName, program: options.program },
                {
                    workDir,
                    pulumiHome: home,
                    pulumiCommand: command,
                    envVars: env,
                    secretsProvider: "passphrase",
                    ...(options.ownProjectFile
                        ? {}
                        : { projectSettings: { name: options.projectName, runtime: "nodejs", backend: { url: backendUrl } } }),
                },
            );
        },
        async cli(args, cwd) {
            const { stdout } = await execFileAsync("pulumi", [...args, "--non-interactive"], {
                cwd,
                env: { ...process.env, ...env },
                maxBuffer: 64 << 20,
            });
            return stdout;
        },
        async writtenFiles() {
            const files = (await Promise.all([home, tmp, state].map((dir) => readdir(dir, { recursive: true, withFileTypes: true }))))
                .flat()
                .filter((entry) => entry.isFile())
                .map((entry) => path.join(entry.parentPath, entry.name));
            return Promise.all(files.map((file) => readFile(file, "utf8")));
        },
        async remove() {
            await rm(root, { recursive: true, force: true });
        },
    };
}

/** The counts of an update summary without the zero entries, e.g. `{ create: 3 }`. */
export function changes(summary: OpMap | undefined): Record<string, number> {
    return Object.fromEntries(Object.entries(summary ?? {}).filter(([, count]) => (count ?? 0) > 0));
}

export async function writeText(file: string, text: string): Promise<void> {
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, text);
}
