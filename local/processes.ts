/**
 * Launching and stopping the local binaries the test world needs (pebble, pebble-challtestsrv).
 *
 * Every launched process is tracked until it exits, so `stopAll()` can be wired to Ctrl-C in
 * the sandbox, and a last-resort SIGKILL runs when the Node process itself exits, so a crashed
 * test worker does not leave listeners behind.
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { tcpPortAccepts } from "./ports";

export interface ExitStatus {
    code: number | null;
    signal: NodeJS.Signals | null;
}

export interface ReadinessCondition {
    /** Ready once the combined stdout+stderr matches this. */
    logLine?: RegExp;
    /** Ready once every one of these 127.0.0.1 TCP ports accepts connections. */
    tcpPorts?: readonly number[];
}

export interface LaunchOptions {
    /** Short label used in error messages. */
    name: string;
    /** Binary name (looked up on PATH) or path. */
    command: string;
    args?: readonly string[];
    /** Added on top of the parent's environment. */
    env?: Readonly<Record<string, string>>;
    cwd?: string;
    /** All given conditions must hold. Without any, the process counts as ready once spawned. */
    ready?: ReadinessCondition;
    /** Bound on the wait for readiness (default 20 s). */
    readyTimeoutMs?: number;
    /** Bound on the wait after SIGTERM before SIGKILL (default 5 s). */
    stopTimeoutMs?: number;
    /** Shown when the binary is missing, e.g. "install it with `apt-get install -y pebble` (Debian package)". */
    installHint?: string;
}

export interface ManagedProcess {
    readonly name: string;
    readonly pid: number;
    /** Everything the process wrote to stdout and stderr so far (the last 256 KiB). */
    output(): string;
    isRunning(): boolean;
    /** Settles when the process has exited. */
    readonly exited: Promise<ExitStatus>;
    /** SIGTERM, then SIGKILL after the stop bound. Idempotent; resolves once the process is gone. */
    stop(): Promise<ExitStatus>;
}

export class MissingBinaryError extends Error {
    constructor(
        readonly binary: string,
        installHint: string | undefined,
    ) {
        super(`${binary} is not on PATH${installHint ? `: ${installHint}` : ""}`);
        this.name = "MissingBinaryError";
    }
}

export class ProcessStartError extends Error {
    constructor(
        message: string,
        readonly output: string,
        readonly exit?: ExitStatus,
    ) {
        super(`${message}\n--- output ---\n${output || "(no output)"}`);
        this.name = "ProcessStartError";
    }
}

const OUTPUT_LIMIT_BYTES = 256 * 1024;
const READINESS_POLL_MS = 50;
const tracked = new Set<ManagedProcess & { killNow(): void }>();
let exitHookInstalled = false;

/** Absolute path of `binary` on PATH (or the path itself when it contains a slash), if executable. */
export function findOnPath(binary: string): string | undefined {
    const candidates = binary.includes("/")
        ? [binary]
        : (process.env.PATH ?? "")
              .split(path.delimiter)
              .filter(Boolean)
              .map((dir) => path.join(dir, binary));
    return candidates.find((candidate) => {
        try {
            fs.accessSync(candidate, fs.constants.X_OK);
            return fs.statSync(candidate).isFile();
        } catch {
            return false;
        }
    });
}

export function requireBinary(binary: string, installHint?: string): string {
    const found = findOnPath(binary);
    if (!found) throw new MissingBinaryError(binary, installHint);
    return found;
}

/** Processes started by `launch` that have not exited yet. */
export function runningProcesses(): readonly ManagedProcess[] {
    return [...tracked];
}

/** Stops every process started by `launch` (for signal handlers and test teardown). */
export async function stopAll(): Promise<void> {
    await Promise.all([...tracked].map((managed) => managed.stop()));
}

function installExitHook(): void {
    if (exitHookInstalled) return;
    exitHookInstalled = true;
    // Only synchronous work is possible in an "exit" handler: a plain SIGKILL to what is left.
    process.on("exit", () => {
        for (const managed of tracked) managed.killNow();
    });
}

function appendBounded(buffer: string, chunk: string): string {
    const combined = buffer + chunk;
    return combined.length > OUTPUT_LIMIT_BYTES ? combined.slice(combined.length - OUTPUT_LIMIT_BYTES) : combined;
}

function describeExit(exit: ExitStatus): string {
    return exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
}

function wrapChild(child: ChildProcess, options: LaunchOptions): ManagedProcess & { killNow(): void } {
    let output = "";
    let exitStatus: ExitStatus | undefined;
    let stopping: Promise<ExitStatus> | undefined;
    const collect = (chunk: Buffer) => {
        output = appendBounded(output, chunk.toString("utf8"));
    };
    child.stdout?.on("data", collect);
    child.stderr?.on("data", collect);

    const exited = new Promise<ExitStatus>((resolve) => {
        child.once("exit", (code, signal) => {
            exitStatus = { code, signal };
            resolve(exitStatus);
        });
        child.once("error", (error) => {
            output = appendBounded(output, `\n[spawn error] ${error.message}\n`);
            // A failed spawn never emits "exit".
            if (child.pid === undefined) {
                exitStatus = { code: null, signal: null };
                resolve(exitStatus);
            }
        });
    });

    const managed = {
        name: options.name,
        pid: child.pid ?? -1,
        output: () => output,
        isRunning: () => exitStatus === undefined,
        exited,
        killNow: () => {
            if (exitStatus === undefined) child.kill("SIGKILL");
        },
        stop: (): Promise<ExitStatus> => {
            stopping ??= (async () => {
                if (exitStatus !== undefined) return exitStatus;
                child.kill("SIGTERM");
                const timer = setTimeout(() => child.kill("SIGKILL"), options.stopTimeoutMs ?? 5_000);
                const status = await exited;
                clearTimeout(timer);
                return status;
            })();
            return stopping;
        },
    };
    void exited.then(() => tracked.delete(managed));
    return managed;
}

async function conditionHolds(condition: ReadinessCondition, output: string): Promise<boolean> {
    if (condition.logLine && !condition.logLine.test(output)) return false;
    for (const port of condition.tcpPorts ?? []) {
        if (!(await tcpPortAccepts(port))) return false;
    }
    return true;
}

/**
 * Spawns a binary and resolves once it is ready; rejects with a `ProcessStartError` carrying its
 * output when it exits first or is not ready within the bound (the process is stopped then).
 */
export async function launch(options: LaunchOptions): Promise<ManagedProcess> {
    const binary = requireBinary(options.command, options.installHint);
    installExitHook();
    const child = spawn(binary, [...(options.args ?? [])], {
        cwd: options.cwd,
        env: { ...process.env, ...options.env },
        stdio: ["ignore", "pipe", "pipe"],
    });
    const managed = wrapChild(child, options);
    tracked.add(managed);

    const timeoutMs = options.readyTimeoutMs ?? 20_000;
    const deadline = Date.now() + timeoutMs;
    const condition = options.ready ?? {};
    for (;;) {
        if (!managed.isRunning()) {
            const exit = await managed.exited;
            throw new ProcessStartError(`${options.name} ${describeExit(exit)} before it was ready`, managed.output(), exit);
        }
        if ((await conditionHolds(condition, managed.output())) && managed.isRunning()) return managed;
        if (Date.now() >= deadline) {
            await managed.stop();
            throw new ProcessStartError(`${options.name} was not ready within ${timeoutMs} ms`, managed.output());
        }
        await new Promise((resolve) => setTimeout(resolve, READINESS_POLL_MS));
    }
}

/** True while a process with this pid exists (signal 0 only checks; it delivers nothing). */
export function pidIsAlive(pid: number): boolean {
    try {
        process.kill(pid, 0);
        return true;
    } catch {
        return false;
    }
}
