/**
 * `npm run check -- --stack <stack>`: offline (no credentials, no Pebble, no Pulumi CLI on PATH), the
 * program's own messages for a bad stack file, the list of what the program declares, and the renewal
 * schedule judged against each declared certificate. Each run is a child process: the program is a module
 * that runs once per process, as under `pulumi preview`.
 */
import { execFile } from "node:child_process";
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseStackConfig, ConfigError } from "../components/config";
import { certificateCheckProblems, certificateKinds, renderDeclared, type DeclaredResource } from "../scripts/check";
import { CERTIFICATE_RESOURCE_TYPE } from "../scripts/renewalGuard";
import { projectRoot } from "../scripts/stackConfig";
import { opsFixtureRoot, type FixtureRoot } from "./support/opsFixtures";

const RENEWAL_WORKFLOW = join(projectRoot, ".github", "workflows", "renewal.yml");

interface Run {
    code: number;
    stdout: string;
    stderr: string;
}

let fixture: FixtureRoot;
beforeAll(() => {
    fixture = opsFixtureRoot();
    writeFileSync(join(fixture.root, "daily.yml"), 'on:\n  schedule:\n    - cron: "0 4 * * *"\n');
    writeFileSync(join(fixture.root, "often.yml"), 'on:\n  schedule:\n    - cron: "*/50 * * * *"\n');
});
afterAll(() => fixture.remove());

/** Runs the check in a child process with nothing but node: no credentials, no pebble or pulumi on PATH. */
function check(args: string[]): Promise<Run> {
    const script = `require("./scripts/check").runCheck(${JSON.stringify(args)}, { root: ${JSON.stringify(fixture.root)} }).then((code) => process.exit(code))`;
    return promisify(execFile)(process.execPath, ["-r", "ts-node/register/transpile-only", "-e", script], {
        cwd: projectRoot,
        env: { PATH: "/nonexistent" },
    }).then(
        ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
        (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, stdout: error.stdout, stderr: error.stderr }),
    );
}

function section(stdout: string, title: string): string[] {
    const lines = stdout.split("\n");
    const start = lines.findIndex((line) => line.startsWith(`${title} (`));
    expect(start, `a section ${title} in:\n${stdout}`).toBeGreaterThanOrEqual(0);
    const end = lines.findIndex((line, index) => index > start && line === "");
    return lines.slice(start, end);
}

describe("npm run check on a valid stack", () => {
    it("lists the LB, its network, the Service, the record and the certificate, offline, and accepts the renewal schedule", async () => {
        const run = await check(["--stack", "watch", "--renewal-workflow", RENEWAL_WORKFLOW]);
        expect(run.stderr).toBe("");
        expect(run.code).toBe(0);
        expect(run.stdout.split("\n")[0]).toBe(
            "Stack watch (Pulumi.watch.yaml): what `pulumi up -s watch` would declare, offline (ids and addresses show as (known at deploy))",
        );
        expect(section(run.stdout, "Load balancers")).toEqual([
            "Load balancers (1)",
            expect.stringMatching(/^NAME\s+OFFER\s+ZONE\s+PUBLIC IP\s+TAGS$/),
            expect.stringMatching(/^-+/),
            expect.stringMatching(/^private-lb-watch-test\s+LB-S\s+fr-par-1\s+none\s+managed-by=pulumi, env=watch, purpose=private-admin$/),
        ]);
        expect(section(run.stdout, "Private network attachments")[3]).toMatch(
            /\sfr-par\/8e2d4c6a-0b1f-4a3e-9c5d-7f6e8a9b0c1d\s+\(known at deploy\)$/,
        );
        expect(section(run.stdout, "Kubernetes Services")[3]).toMatch(
            /^ops-tools\/test-lb-private\s+LoadBalancer\s+443->80\s+\(known at deploy\)$/,
        );
        expect(section(run.stdout, "DNS records")[3]).toMatch(/^test\.watch\.example\.com\s+A\s+\(known at deploy\)\s+120\s+false$/);
        expect(section(run.stdout, "Certificates")[3]).toMatch(
            /^test-certificate\s+test\.watch\.example\.com\s+https:\/\/acme-staging-v02\.api\.letsencrypt\.org\/directory\s+\(CA default\)\s+ecdsa-p256\s+annotation :443$/,
        );
        expect(run.stdout).toContain(
            `The schedule of ${RENEWAL_WORKFLOW} renews every certificate in time (longest gap between runs: 6 h).`,
        );
        expect(run.stdout.trimEnd().split("\n").at(-1)).toBe("The stack file is valid.");
    });

    it("says the longest gap of a schedule as a person reads it", async () => {
        const run = await check(["--stack", "watch", "--renewal-workflow", join(fixture.root, "often.yml")]);
        expect(run.code).toBe(0);
        expect(run.stdout).toContain("renews every certificate in time (longest gap between runs: 0.8 h).");
    });

    it("judges a schedule given as cron expressions, for a scheduler other than GitHub", async () => {
        const [fits, sparse] = await Promise.all([
            check(["--stack", "shortlived", "--renewal-schedule", "17 */6 * * *"]),
            check(["--stack", "shortlived", "--renewal-schedule", "0 4 * * *"]),
        ]);
        expect(fits.code).toBe(0);
        expect(fits.stdout).toContain("The schedule 17 */6 * * * renews every certificate in time (longest gap between runs: 6 h).");
        expect(sparse.code).toBe(1);
        expect(sparse.stderr).toContain("the schedule runs only 2.2 times in that window (longest gap 24 h): run it at least every 13.3 h");
    });

    it("refuses a schedule that is not cron, and a workflow and a schedule together (exit 2)", async () => {
        const [bad, both] = await Promise.all([
            check(["--stack", "watch", "--renewal-schedule", "every day"]),
            check(["--stack", "watch", "--renewal-schedule", "0 4 * * *", "--renewal-workflow", RENEWAL_WORKFLOW]),
        ]);
        expect(bad.code).toBe(2);
        expect(bad.stderr).toMatch(/^check: --renewal-schedule "every day" is not a cron expression: /);
        expect(both.code).toBe(2);
        expect(both.stderr).toMatch(/^check: Only one of `--renewal-workflow` or `--renewal-schedule` can be provided\.\n/);
    });

    it("fails a schedule too sparse for the stack's shortlived certificates", async () => {
        const run = await check(["--stack", "shortlived", "--renewal-workflow", join(fixture.root, "daily.yml")]);
        expect(run.code).toBe(1);
        expect(section(run.stdout, "Certificates")[3]).toMatch(/\sshortlived\s/);
        expect(run.stderr).toBe(
            "\n1 problem:\n  ✗ certificate test-certificate: shortlived certificates (160 h) renew within their last 53.3 h, but the schedule runs only 2.2 times in that window (longest gap 24 h): run it at least every 13.3 h\n",
        );
        const withRepoSchedule = await check(["--stack", "shortlived", "--renewal-workflow", RENEWAL_WORKFLOW]);
        expect(withRepoSchedule.code).toBe(0);
    });
});

describe("npm run check on a bad stack file", () => {
    it("gives the program's own messages for a config it refuses (exit 1)", async () => {
        const run = await check(["--stack", "invalid"]);
        expect(run.code).toBe(1);
        expect(run.stdout).toBe("");
        let expected = "";
        try {
            parseStackConfig({
                environment: "watch",
                environments: {
                    watch: {
                        domain: "watch.example.com",
                        privateNetworkId: "fr-par/8e2d4c6a-0b1f-4a3e-9c5d-7f6e8a9b0c1d",
                        cloudflareZone: "example.com",
                    },
                },
                apps: [{ name: "test", namespace: "ops-tools" }],
                dnsTtl: 30,
                acmeEmail: "platform-team@example.com",
                acmeServr: "letsencrypt-staging",
            });
        } catch (error) {
            expect(error).toBeInstanceOf(ConfigError);
            expected = (error as Error).message;
        }
        expect(expected).toContain("scw-private-lb:dnsTtl: must be at least 60 seconds (Cloudflare's minimum)");
        expect(expected).toContain("scw-private-lb:acmeServr: unknown key: did you mean acmeServer?");
        expect(run.stderr).toBe(`Pulumi.invalid.yaml: ${expected}\n`);
    });

    it("names the stack file that is not valid YAML (exit 1), refuses an unknown stack and bad usage (exit 2)", async () => {
        const [broken, unknown, missing, flag] = await Promise.all([
            check(["--stack", "broken"]),
            check(["--stack", "qa"]),
            check([]),
            check(["--stack", "watch", "--fix"]),
        ]);
        expect(broken.code).toBe(1);
        expect(broken.stderr).toMatch(/^Pulumi\.broken\.yaml: Pulumi\.broken\.yaml is not valid YAML: Tabs are not allowed as indentation/);
        expect(unknown.code).toBe(2);
        expect(unknown.stderr).toBe("check: no stack file Pulumi.qa.yaml; stacks in this project: broken, invalid, shortlived, watch\n");
        expect(missing.code).toBe(2);
        expect(missing.stderr).toMatch(
            /^check: --stack is required \(stacks in this project: broken, invalid, shortlived, watch\)\nusage: npm run check/,
        );
        expect(flag.code).toBe(2);
        expect(flag.stderr).toContain("Unknown option '--fix'");
    });

    it("refuses a stack file outside any Pulumi project with a message, not a crash (exit 2)", async () => {
        const outside = mkdtempSync(join(tmpdir(), "no-project-"));
        try {
            const file = join(outside, "Pulumi.lost.yaml");
            copyFileSync(join(fixture.root, "Pulumi.watch.yaml"), file);
            const run = await check(["--stack", file]);
            expect(run.code).toBe(2);
            expect(run.stderr).toBe(
                `check: no Pulumi.yaml in ${outside} or above it: a stack file belongs to a Pulumi project, beside its Pulumi.yaml\n`,
            );
        } finally {
            rmSync(outside, { recursive: true, force: true });
        }
    });
});

describe("the pieces of the check", () => {
    const certificate = (inputs: Record<string, unknown>): DeclaredResource => ({
        type: CERTIFICATE_RESOURCE_TYPE,
        name: "grafana-certificate-certificate",
        inputs,
    });
    const unknown = { __pulumiUnknown: true };

    it("runs each certificate's check with the preview's unknowns, and reports what it refuses", async () => {
        const good = certificate({
            domains: ["grafana.watch.example.com"],
            loadBalancerId: unknown,
            accountKeyPem: unknown,
            acmeDirectoryUrl: "https://acme-staging-v02.api.letsencrypt.org/directory",
            email: "ops@example.com",
        });
        expect(await certificateCheckProblems([good])).toEqual([]);
        const wildcard = certificate({ ...good.inputs, domains: ["*.watch.example.com"] });
        const problems = await certificateCheckProblems([wildcard]);
        expect(problems).toEqual([
            'certificate grafana-certificate-certificate: domains[0]: "*.watch.example.com" is a wildcard name: set allowWildcard: true to request it.',
        ]);
    });

    it("reads each certificate's profile and day floor for the cadence check", () => {
        expect(
            certificateKinds([certificate({ profile: "shortlived", renewal: { minDaysRemaining: 2 } }), certificate({ renewal: {} })]),
        ).toEqual([
            { holder: "certificate grafana-certificate-certificate", profile: "shortlived", renewalMinDaysRemaining: 2 },
            { holder: "certificate grafana-certificate-certificate", profile: undefined, renewalMinDaysRemaining: undefined },
        ]);
    });

    it("shows unknown values as known at deploy and counts what it does not tabulate", () => {
        const text = renderDeclared([{ type: "tls:index/privateKey:PrivateKey", name: "acme-account-key", inputs: {} }]);
        expect(text).toContain("Load balancers (0)\n  none");
        expect(text.split("\n").at(-1)).toBe("Also declared: 1 tls:index/privateKey:PrivateKey");
    });
});
