/**
 * `npm start` as a new user meets it: a stack file that is not valid YAML is refused like `status` refuses
 * it (exit 2, no stack trace), a profile Pebble ignores is said so, and `--keep` leaves the sandbox running
 * with the environment that points `status` at it, until Ctrl-C stops everything.
 */
import { existsSync } from "node:fs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { pidIsAlive } from "../local/processes";
import { runSandbox } from "../scripts/sandbox";
import { keptSandboxLines, parseSandboxArgs } from "../scripts/sandboxPlan";
import { runStatus } from "../scripts/status";
import type { StatusReport } from "../scripts/statusReport";
import { opsFixtureRoot, type FixtureRoot } from "./support/opsFixtures";

let fixture: FixtureRoot;
beforeEach(() => {
    fixture = opsFixtureRoot();
});
afterEach(() => fixture.remove());

interface Captured {
    lines: string[];
    errors: string[];
}

function capture(): Captured & { out: (line: string) => void; err: (line: string) => void } {
    const lines: string[] = [];
    const errors: string[] = [];
    return { lines, errors, out: (line) => lines.push(line), err: (line) => errors.push(line) };
}

describe("npm start on a stack file that is not valid YAML", () => {
    it("says what status says, on stderr, with exit 2", async () => {
        const sandbox = capture();
        const code = await runSandbox(["--stack", "broken"], { root: fixture.root, out: sandbox.out, err: sandbox.err });
        expect(code).toBe(2);
        expect(sandbox.lines).toEqual([]);
        expect(sandbox.errors).toHaveLength(1);
        expect(sandbox.errors[0]).toMatch(/^sandbox: Pulumi\.broken\.yaml is not valid YAML: /);

        let statusErr = "";
        const statusCode = await runStatus(["--stack", "broken", "--skip-dns"], {
            env: {},
            root: fixture.root,
            out: () => undefined,
            err: (text) => (statusErr += text),
        });
        expect(statusCode).toBe(2);
        expect(sandbox.errors[0].replace(/^sandbox: /, "").trimEnd()).toBe(statusErr.replace(/^status: /, "").trimEnd());
    });
});

describe("npm start -- --keep", () => {
    it("parses --keep with or without a stack", () => {
        expect(parseSandboxArgs(["--keep"])).toEqual({ ok: true, stack: "staging", keep: true });
        expect(parseSandboxArgs(["--stack", "prod"])).toEqual({ ok: true, stack: "prod", keep: false });
    });

    it("prints the variables status reads, pointing at the local APIs", () => {
        expect(
            keptSandboxLines("watch", {
                SCW_ACCESS_KEY: "SCWAAAAAAAAAAAAAAAAA",
                SCW_SECRET_KEY: "6ba7b810-9dad-11d1-80b4-00c04fd430c8",
                SCW_API_URL: "http://127.0.0.1:4100",
                SCW_DEFAULT_PROJECT_ID: "not printed",
                CLOUDFLARE_API_TOKEN: "local-token",
                CLOUDFLARE_BASE_URL: "http://127.0.0.1:4200/client/v4",
            }),
        ).toEqual([
            "The sandbox keeps running (--keep). To try `npm run status` against it, in another terminal:",
            "  export SCW_ACCESS_KEY=SCWAAAAAAAAAAAAAAAAA SCW_SECRET_KEY=6ba7b810-9dad-11d1-80b4-00c04fd430c8 SCW_API_URL=http://127.0.0.1:4100 CLOUDFLARE_API_TOKEN=local-token CLOUDFLARE_BASE_URL=http://127.0.0.1:4200/client/v4",
            "  npm run status -- --stack watch",
            "Press Ctrl-C here to stop everything.",
        ]);
    });

    it("keeps the sandbox running for status, warns that Pebble ignores the profile, and stops everything on Ctrl-C", async () => {
        const sandbox = capture();
        let interrupt: (() => void) | undefined;
        let removed = false;
        const running = runSandbox(["--stack", "shortlived", "--keep"], {
            root: fixture.root,
            out: sandbox.out,
            err: sandbox.err,
            onInterrupt: (handler) => {
                interrupt = handler;
                return () => (removed = true);
            },
        });
        const deadline = Date.now() + 60_000;
        while (!sandbox.lines.includes("Press Ctrl-C here to stop everything.")) {
            expect(Date.now(), `the sandbox did not keep running:\n${sandbox.lines.join("\n")}\n${sandbox.errors.join("\n")}`).toBeLessThan(
                deadline,
            );
            await new Promise((resolve) => setTimeout(resolve, 50));
        }
        expect(sandbox.errors).toEqual([]);
        expect(sandbox.lines).toContain(
            "! Pebble ignores ACME profiles: the stack asks for the \"shortlived\" profile (test), but the sandbox issues 90-day certificates; Let's Encrypt would issue the profile's own lifetime, and renew on that schedule",
        );

        // The printed environment points `status` at the sandbox: the LB, its certificate and the A record are there.
        const exported = sandbox.lines.find((line) => line.startsWith("  export "));
        expect(exported).toBeDefined();
        const env = Object.fromEntries(
            (exported ?? "")
                .trim()
                .slice("export ".length)
                .split(" ")
                .map((pair) => [pair.slice(0, pair.indexOf("=")), pair.slice(pair.indexOf("=") + 1)]),
        );
        expect(Object.keys(env)).toEqual([
            "SCW_ACCESS_KEY",
            "SCW_SECRET_KEY",
            "SCW_API_URL",
            "CLOUDFLARE_API_TOKEN",
            "CLOUDFLARE_BASE_URL",
        ]);
        let statusOut = "";
        const statusCode = await runStatus(["--stack", "shortlived", "--json"], {
            env,
            root: fixture.root,
            out: (text) => (statusOut += text),
            err: (text) => (statusOut += text),
        });
        expect(statusCode, statusOut).toBe(0);
        const report = JSON.parse(statusOut) as StatusReport;
        expect(report).toMatchObject({ expected: [{ name: "private-lb-watch-test", zone: "fr-par-1" }], healthy: true, dnsChecked: true });
        expect(report.loadBalancers[0].certificates).toHaveLength(1);
        expect(report.loadBalancers[0].dns).toEqual([expect.objectContaining({ fqdn: "test.watch.example.com", ok: true })]);

        expect(interrupt).toBeDefined();
        interrupt?.();
        expect(await running).toBe(130);
        expect(removed).toBe(true);
        const stopped = sandbox.lines.find((line) => line.startsWith("Stopped pebble"));
        const pids = /pid (\d+)\), pebble-challtestsrv \(pid (\d+)\)/.exec(stopped ?? "");
        expect(pids, sandbox.lines.join("\n")).not.toBeNull();
        for (const pid of [Number(pids?.[1]), Number(pids?.[2])]) {
            expect(pidIsAlive(pid)).toBe(false);
        }
        const tempDir = /removed (\/\S+)\.$/.exec(stopped ?? "")?.[1];
        expect(tempDir).toBeDefined();
        expect(existsSync(tempDir as string)).toBe(false);
    }, 90_000);

    it("says nothing about profiles for a stack that asks for none", async () => {
        const sandbox = capture();
        const code = await runSandbox(["--stack", "watch"], { root: fixture.root, out: sandbox.out, err: sandbox.err });
        expect(code, sandbox.errors.join("\n")).toBe(0);
        expect(sandbox.lines.filter((line) => line.includes("profile"))).toEqual([]);
        expect(sandbox.lines.some((line) => line.startsWith("The sandbox keeps running"))).toBe(false);
    }, 90_000);
});
