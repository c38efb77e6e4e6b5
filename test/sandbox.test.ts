/**
 * `npm start` end to end, as a real child process: every step with its duration, the final table, a
 * renewal that binds the successor and deletes the predecessor, nothing left running, temp files gone,
 * and Ctrl-C stopping everything.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { pidIsAlive } from "../local/processes";
import { availableStacks, projectRoot } from "../scripts/stackConfig";
import { fixtureStack } from "./support/program";

const SANDBOX = join(projectRoot, "scripts", "sandbox.ts");
const DURATION = /\((\d+ ms|\d+\.\d s)\)$/;

interface Finished {
    code: number | null;
    signal: NodeJS.Signals | null;
    out: string;
    lines: string[];
}

interface Running {
    /** Resolves with the first output line matching `pattern`. */
    waitForLine(pattern: RegExp): Promise<string>;
    interrupt(): void;
    finished: Promise<Finished>;
}

function startSandbox(args: string[], env: NodeJS.ProcessEnv = process.env): Running {
    const child = spawn(process.execPath, ["-r", "ts-node/register/transpile-only", SANDBOX, ...args], {
        cwd: projectRoot,
        env,
        stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    const waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
    const onData = (chunk: Buffer) => {
        out += chunk.toString("utf8");
        for (const waiter of [...waiters]) {
            const line = out.split("\n").find((candidate) => waiter.pattern.test(candidate));
            if (line !== undefined) {
                waiters.splice(waiters.indexOf(waiter), 1);
                waiter.resolve(line);
            }
        }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    const finished = new Promise<Finished>((resolve) => {
        child.once("close", (code, signal) => resolve({ code, signal, out, lines: out.split("\n") }));
    });
    return {
        waitForLine: (pattern) =>
            new Promise<string>((resolve, reject) => {
                waiters.push({ pattern, resolve });
                onData(Buffer.alloc(0));
                void finished.then(() => reject(new Error(`the sandbox ended without printing ${pattern}:\n${out}`)));
            }),
        interrupt: () => child.kill("SIGINT"),
        finished,
    };
}

/** The pids the sandbox printed when Pebble started. */
function pebblePids(lines: string[]): number[] {
    const line = lines.find((candidate) => candidate.startsWith("✓ Start Pebble"));
    const match = /pids (\d+) and (\d+)/.exec(line ?? "");
    expect(match, "the Pebble step reports its pids").not.toBeNull();
    return [Number(match?.[1]), Number(match?.[2])];
}

function removedDirectory(lines: string[]): string {
    const match = /removed (\/\S+)\.$/.exec(lines.find((line) => line.startsWith("Stopped pebble")) ?? "");
    expect(match, "the sandbox says which temp directory it removed").not.toBeNull();
    return match?.[1] ?? "";
}

function indexOfLine(lines: string[], pattern: RegExp, from = 0): number {
    const index = lines.findIndex((line, position) => position >= from && pattern.test(line));
    expect(index, `a line matching ${pattern} after line ${from}`).toBeGreaterThanOrEqual(0);
    return index;
}

const ID = "fr-par-1/[0-9a-f-]{36}";

/** The fixture stacks: one app in staging, and three apps in prod on two LBs (one shared on 8443). */
const ONE_APP = ["--stack", fixtureStack("one-app")];
const THREE_APPS = ["--stack", fixtureStack("three-apps")];

describe("npm start (the sandbox)", () => {
    it("issues, leaves alone and renews the certificate of a one-app stack, then leaves nothing behind", async () => {
        const { code, lines, out } = await startSandbox(ONE_APP).finished;
        expect(code, out).toBe(0);

        // Every step is announced, then reported done with its duration.
        const done = lines.filter((line) => line.startsWith("✓ "));
        expect(done.length).toBeGreaterThanOrEqual(12);
        for (const line of done) {
            expect(line).toMatch(DURATION);
        }
        expect(lines.filter((line) => line.startsWith("… "))).toHaveLength(done.length);
        expect(lines.some((line) => line.startsWith("✗"))).toBe(false);

        // The engine's order: check + create, a no-op pass, then a renewal with create-before-delete.
        const pass1 = indexOfLine(lines, /^Pass 1: /);
        indexOfLine(lines, /^✓ test: check \(/, pass1);
        const created =
            lines[
                indexOfLine(
                    lines,
                    new RegExp(`^✓ test: create \\(ACME order at Pebble, DNS-01 TXT on Cloudflare, upload to the LB\\): ${ID}, not after `),
                    pass1,
                )
            ];
        const firstId = new RegExp(ID).exec(created)?.[0] as string;
        indexOfLine(lines, new RegExp(`^✓ test: the CCM binds ${firstId} \\(Service annotation 443:<id>\\)`), pass1);
        const pass2 = indexOfLine(lines, /^Pass 2: /, pass1);
        indexOfLine(lines, /^✓ test: check \+ diff: no changes \(/, pass2);
        const pass3 = indexOfLine(
            lines,
            /^Pass 3: the provider's clock moves to \d{4}-\d\d-\d\d \d\d:\d\dZ, past every renewal date/,
            pass2,
        );
        indexOfLine(lines, /^✓ test: check \+ diff: replace \(renewalDueAt\)/, pass3);
        const successorLine = lines[indexOfLine(lines, new RegExp(`^✓ test: create the successor: ${ID}`), pass3)];
        const successorId = new RegExp(ID).exec(successorLine)?.[0] as string;
        expect(successorId).not.toBe(firstId);
        const bound = indexOfLine(lines, new RegExp(`^✓ test: the CCM binds ${successorId} `), pass3);
        indexOfLine(lines, new RegExp(`^✓ test: delete the predecessor ${firstId} \\(`), bound);

        // The final table: one row per endpoint, with the successor bound and the predecessor gone.
        const header = indexOfLine(
            lines,
            /^APP\s+NAMES\s+CERTIFICATE\s+NOT AFTER\s+RENEW FROM\s+BOUND FRONTEND\s+REPLACED \(DELETED\)\s+SCALEWAY CALLS\s+CLOUDFLARE CALLS$/,
        );
        const row = lines[header + 2].split(/\s{2,}/);
        expect(row.slice(0, 3)).toEqual(["test", "test.staging.example.net", successorId]);
        expect(row[3]).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\dZ$/);
        expect(Date.parse(row[4].replace(" ", "T"))).toBeLessThan(Date.parse(row[3].replace(" ", "T")));
        expect(row[5]).toMatch(/^[0-9a-f-]{36}_tcp_443 \(:443\)$/);
        expect(row[6]).toBe(firstId);
        expect(Number(row[7])).toBeGreaterThan(0);
        expect(Number(row[8])).toBeGreaterThan(0);
        expect(lines[header + 3]).toBe("The LB holds 1 certificate for 1 endpoint; 0 ACME TXT records left on Cloudflare.");

        // Nothing left running, no temp files.
        for (const pid of pebblePids(lines)) {
            expect(pidIsAlive(pid), `pid ${pid}`).toBe(false);
        }
        expect(existsSync(removedDirectory(lines))).toBe(false);
        expect(lines.at(-2)).toMatch(/^Done in \d+(\.\d)? (s|ms)\.$/);
    });

    it("runs every app of a stack with two LBs, each app on its LB's frontend for its TLS port", async () => {
        const { code, lines, out } = await startSandbox(THREE_APPS).finished;
        expect(code, out).toBe(0);
        expect(out).toMatch(
            /✓ Seed the LB private-lb-prod-test with .*: fr-par-1\/[0-9a-f-]{36}; prod 172\.16\.0\.10, monitoring 172\.16\.4\.10; frontends :443, :8443 \(/,
        );
        expect(out).toMatch(
            /✓ Seed the LB private-lb-prod-backoffice with .*: fr-par-1\/[0-9a-f-]{36}; prod 172\.16\.0\.11; frontends :443 \(/,
        );
        const header = indexOfLine(lines, /^APP\s+NAMES/);
        const rows = lines.slice(header + 2, header + 5).map((line) => line.split(/\s{2,}/));
        expect(rows.map((row) => row.slice(0, 2))).toEqual([
            ["test", "test.prod.example.net, test.monitoring.example.net"],
            ["backoffice", "backoffice.prod.example.net"],
            ["grafana", "grafana.prod.example.net, grafana.monitoring.example.net"],
        ]);
        expect(rows.map((row) => row[5].replace(/^[0-9a-f-]{36}/, "<uid>"))).toEqual([
            "<uid>_tcp_443 (:443)",
            "<uid>_tcp_443 (:443)",
            "<uid>_tcp_8443 (:8443)",
        ]);
        expect(lines[header + 5]).toBe("The 2 LBs hold 3 certificates for 3 endpoints; 0 ACME TXT records left on Cloudflare.");
    });

    it("stops everything on Ctrl-C", async () => {
        const sandbox = startSandbox(ONE_APP);
        await sandbox.waitForLine(/^✓ Start Pebble/);
        sandbox.interrupt();
        const { code, lines, out } = await sandbox.finished;
        expect(code, out).toBe(130);
        expect(lines).toContain("Interrupted: stopping everything…");
        expect(lines.some((line) => line.startsWith("Done in"))).toBe(false);
        for (const pid of pebblePids(lines)) {
            expect(pidIsAlive(pid), `pid ${pid}`).toBe(false);
        }
        expect(existsSync(removedDirectory(lines))).toBe(false);
    });

    it("says how to install Pebble when it is missing, and refuses an unknown stack (exit 2)", async () => {
        const missing = await startSandbox(ONE_APP, { ...process.env, PATH: "/nonexistent" }).finished;
        expect(missing.code).toBe(2);
        expect(missing.out).toContain("pebble is not on PATH: install it with `apt-get install -y pebble`");

        const unknown = await startSandbox(["--stack", "qa"]).finished;
        expect(unknown.code).toBe(2);
        expect(unknown.out).toContain(`no stack file Pulumi.qa.yaml; stacks in this project: ${availableStacks().join(", ")}`);
    });
});
