/**
 * `status` against the local Scaleway LB API: a healthy LB and each problem an operator must see, with
 * the exit code, the human table and the JSON document; then the real command in a child process.
 */
import { execFile } from "node:child_process";
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import Cloudflare from "cloudflare";
import { startCloudflareServer, type LocalCloudflareServer } from "../local/cloudflare-server";
import { startScalewayServer, type LoadBalancerSnapshot, type LocalScalewayServer } from "../local/scaleway-server";
import { freeTcpPort } from "../local/ports";
import { availableStacks, projectRoot } from "../scripts/stackConfig";
import { runStatus } from "../scripts/status";
import type { StatusReport } from "../scripts/statusReport";
import { fixtureStack } from "./support/program";
import { DAY_MS, FAST_RETRY, uploadTestCertificate, type Validity } from "./support/statusWorld";

const STAGING_LB = "private-lb-staging-test";
const STAGING_NETWORK = "3b9f6e2a-1c4d-4e8f-a7b6-5d4c3b2a1f0e";
const STAGING_IP = "172.16.8.5";
const STAGING_NAME = "test.staging.example.net";
/** The fixture stacks: one app in staging (network by id), and three apps in prod on two LBs (prod's network by name). */
const ONE_APP = fixtureStack("one-app");
const THREE_APPS = fixtureStack("three-apps");

let server: LocalScalewayServer;
let cloudflare: LocalCloudflareServer;

beforeEach(async () => {
    server = await startScalewayServer();
    // Certificates answer their final status at once: status reads them, it does not wait for them.
    server.setReadyAfter(0);
    cloudflare = await startCloudflareServer();
});

afterEach(async () => {
    await Promise.all([server.stop(), cloudflare.stop()]);
});

interface Run {
    code: number;
    out: string;
    err: string;
}

async function status(...argv: string[]): Promise<Run> {
    let out = "";
    let err = "";
    const code = await runStatus(argv, {
        env: { ...server.env, ...cloudflare.env },
        retry: FAST_RETRY,
        out: (text) => (out += text),
        err: (text) => (err += text),
    });
    return { code, out, err };
}

async function statusJson(...argv: string[]): Promise<{ code: number; report: StatusReport }> {
    const run = await status(...argv, "--json");
    return { code: run.code, report: JSON.parse(run.out) as StatusReport };
}

function seedStagingLb(options: { attached?: boolean } = {}): LoadBalancerSnapshot {
    return server.seedLoadBalancer({
        name: STAGING_LB,
        zone: "fr-par-1",
        privateNetworks: options.attached === false ? [] : [{ id: STAGING_NETWORK, ip: `${STAGING_IP}/22` }],
    });
}

/** A chain for the staging name on `lb`; returns the bare certificate UUID. */
const upload = (lb: LoadBalancerSnapshot, validity: Validity, name = "test cert"): Promise<string> =>
    uploadTestCertificate(server, lb, STAGING_NAME, validity, name);

const FRESH = { daysAgo: 1, daysLeft: 89 };

async function healthyStaging(): Promise<{ lb: LoadBalancerSnapshot; certificateId: string; frontendName: string }> {
    const lb = seedStagingLb();
    const certificateId = await upload(lb, FRESH);
    const frontend = server.seedFrontend({
        lbId: lb.id,
        name: "4f1c2e3d-aaaa-4bbb-8ccc-123456789abc_tcp_443",
        inboundPort: 443,
        certificateIds: [certificateId],
    });
    return { lb, certificateId, frontendName: frontend.name };
}

function kinds(report: StatusReport): string[] {
    return [...report.problems, ...report.loadBalancers.flatMap((lb) => lb.problems)].map((problem) => problem.kind);
}

describe("status against the local Scaleway API", () => {
    it("reports a healthy LB: exit 0, the certificate with its names, days left, renewal date and frontend", async () => {
        const { lb, certificateId, frontendName } = await healthyStaging();

        const human = await status("--stack", ONE_APP, "--skip-dns");
        expect(human.err).toBe("");
        expect(human.code).toBe(0);
        expect(human.out).toContain(`Load balancer ${STAGING_LB} (fr-par-1/${lb.id})`);
        expect(human.out).toContain(`Private IPs: staging ${STAGING_IP}`);
        const certificateRow = human.out.split("\n").find((line) => line.startsWith(`fr-par-1/${certificateId}`));
        expect(certificateRow).toBeDefined();
        expect(certificateRow).toContain(STAGING_NAME);
        expect(certificateRow).toContain("ready");
        expect(certificateRow).toMatch(/\s88\s/);
        expect(certificateRow).toContain(`${frontendName} (:443)`);
        expect(human.out).toContain("Healthy: no problems found.");
        expect(human.out).toContain("DNS not checked (--skip-dns)");

        const { code, report } = await statusJson("--stack", ONE_APP, "--skip-dns");
        expect(code).toBe(0);
        expect(report).toMatchObject({
            stack: "one-app",
            environment: "staging",
            expected: [{ name: STAGING_LB, zone: "fr-par-1" }],
            healthy: true,
            dnsChecked: false,
            problems: [],
        });
        expect(report.loadBalancers).toHaveLength(1);
        const [certificate] = report.loadBalancers[0].certificates;
        expect(certificate).toMatchObject({
            id: `fr-par-1/${certificateId}`,
            status: "ready",
            names: [STAGING_NAME],
            daysLeft: 88,
            usedBy: [`${frontendName} (:443)`],
        });
        // Staging renews 30 days before expiry (renewalMinDaysRemaining), earlier than the 1/3 rule (also 30 days for 90).
        const dueInDays = (Date.parse(certificate.renewalDueAt ?? "") - Date.now()) / DAY_MS;
        expect(dueInDays).toBeGreaterThan(58.9);
        expect(dueInDays).toBeLessThan(59.1);
        expect(report.loadBalancers[0].privateIps).toEqual({ staging: STAGING_IP });
    });

    it("reports a missing LB (exit 1)", async () => {
        server.seedLoadBalancer({ name: `${STAGING_LB}-old`, privateNetworks: [] });
        const run = await status("--stack", ONE_APP, "--skip-dns");
        expect(run.code).toBe(1);
        expect(run.out).toContain(`[load-balancer-missing] no load balancer named ${STAGING_LB} in fr-par-1`);
        const { code, report } = await statusJson("--stack", ONE_APP, "--skip-dns");
        expect(code).toBe(1);
        expect(kinds(report)).toEqual(["load-balancer-missing"]);
        expect(report.loadBalancers).toEqual([]);
    });

    it("reports an expired certificate still on the LB", async () => {
        const lb = seedStagingLb();
        const expired = await upload(lb, { daysAgo: 91, daysLeft: -1 }, "expired cert");
        server.seedFrontend({ lbId: lb.id, name: "frontend-443", inboundPort: 443, certificateIds: [expired] });
        const run = await status("--stack", ONE_APP, "--skip-dns");
        expect(run.code).toBe(1);
        expect(run.out).toMatch(
            /\[certificate-expired\] certificate expired cert expired on \d{4}-\d\d-\d\d \d\d:\d\dZ and is still on the LB/,
        );
        const { report } = await statusJson("--stack", ONE_APP, "--skip-dns");
        expect(kinds(report)).toEqual(["certificate-expired"]);
        expect(report.loadBalancers[0].certificates[0].daysLeft).toBe(-1);
    });

    it("reports a certificate in status error", async () => {
        const { lb } = await healthyStaging();
        server.failCertificateUploads("certificate chain is incomplete");
        const failed = await upload(lb, FRESH, "broken cert");
        const run = await status("--stack", ONE_APP, "--skip-dns");
        expect(run.code).toBe(1);
        expect(run.out).toContain(
            "[certificate-error] certificate broken cert is in status error (certificate chain is incomplete) and still on the LB",
        );
        const { report } = await statusJson("--stack", ONE_APP, "--skip-dns");
        expect(kinds(report)).toEqual(["certificate-error"]);
        expect(report.loadBalancers[0].problems[0].subject).toBe(`fr-par-1/${failed}`);
    });

    it("reports a frontend carrying several certificates", async () => {
        const lb = seedStagingLb();
        const first = await upload(lb, FRESH, "first");
        const second = await upload(lb, FRESH, "second");
        server.seedFrontend({ lbId: lb.id, name: "frontend-443", inboundPort: 443, certificateIds: [first, second] });
        const run = await status("--stack", ONE_APP, "--skip-dns");
        expect(run.code).toBe(1);
        expect(run.out).toContain(
            `[frontend-several-certificates] frontend frontend-443 (:443) carries 2 certificates (${first}, ${second})`,
        );
        const { report } = await statusJson("--stack", ONE_APP, "--skip-dns");
        expect(kinds(report)).toEqual(["frontend-several-certificates"]);
    });

    it("reports a left-over certificate no frontend uses", async () => {
        const { lb } = await healthyStaging();
        const leftOver = await upload(lb, FRESH, "left-over");
        const run = await status("--stack", ONE_APP, "--skip-dns");
        expect(run.code).toBe(1);
        expect(run.out).toContain("[certificate-unused] certificate left-over is used by no frontend");
        expect(run.out.split("\n").find((line) => line.startsWith(`fr-par-1/${leftOver}`))).toMatch(/none$/);
        const { report } = await statusJson("--stack", ONE_APP, "--skip-dns");
        expect(kinds(report)).toEqual(["certificate-unused"]);
        expect(report.loadBalancers[0].problems[0].subject).toBe(`fr-par-1/${leftOver}`);
    });

    it("reports an overdue renewal of the bound certificate", async () => {
        const lb = seedStagingLb();
        // 90-day certificate with 25 days left: past both the 30-day floor and the 1/3 rule.
        const old = await upload(lb, { daysAgo: 65, daysLeft: 25 }, "old cert");
        server.seedFrontend({ lbId: lb.id, name: "frontend-443", inboundPort: 443, certificateIds: [old] });
        const run = await status("--stack", ONE_APP, "--skip-dns");
        expect(run.code).toBe(1);
        expect(run.out).toMatch(
            /\[renewal-overdue\] certificate old cert on frontend-443 \(:443\) was due for renewal on \S+ \S+ \(2[45] days left\): run pulumi up/,
        );
        const { report } = await statusJson("--stack", ONE_APP, "--skip-dns");
        expect(kinds(report)).toEqual(["renewal-overdue"]);
    });

    it("reports a TLS frontend without a certificate, and a TLS port with no frontend at all", async () => {
        const lb = seedStagingLb();
        server.seedFrontend({ lbId: lb.id, name: "frontend-443", inboundPort: 443 });
        const run = await status("--stack", ONE_APP, "--skip-dns");
        expect(run.code).toBe(1);
        expect(run.out).toContain("[tls-frontend-without-certificate] TLS frontend frontend-443 (:443) has no certificate");

        const bare = await startScalewayServer();
        try {
            bare.seedLoadBalancer({ name: STAGING_LB, privateNetworks: [{ id: STAGING_NETWORK, ip: STAGING_IP }] });
            let out = "";
            const code = await runStatus(["--stack", ONE_APP, "--skip-dns", "--json"], {
                env: bare.env,
                retry: FAST_RETRY,
                out: (text) => (out += text),
                err: () => undefined,
            });
            expect(code).toBe(1);
            expect(kinds(JSON.parse(out) as StatusReport)).toEqual(["tls-frontend-missing"]);
            let human = "";
            await runStatus(["--stack", ONE_APP, "--skip-dns"], {
                env: bare.env,
                retry: FAST_RETRY,
                out: (text) => (human += text),
                err: () => undefined,
            });
            expect(human).toContain("  (no certificates)\n\n  (no frontends)");
            expect(human).toContain("[tls-frontend-missing] no frontend on port 443 for app test: the CCM has not created it");
        } finally {
            await bare.stop();
        }
    });

    it("reports an LB not attached to the environment's private network", async () => {
        const lb = seedStagingLb({ attached: false });
        const certificateId = await upload(lb, FRESH);
        server.seedFrontend({ lbId: lb.id, name: "frontend-443", inboundPort: 443, certificateIds: [certificateId] });
        const { code, report } = await statusJson("--stack", ONE_APP, "--skip-dns");
        expect(code).toBe(1);
        expect(kinds(report)).toEqual(["private-ip-missing"]);
        expect(report.loadBalancers[0].problems[0].message).toContain(STAGING_NETWORK);
    });

    it("retries a 429 from the LB API and still answers", async () => {
        await healthyStaging();
        server.failNext({ method: "GET", pathPattern: /\/lbs$/, status: 429, retryAfterSeconds: 0 });
        const run = await status("--stack", ONE_APP, "--skip-dns");
        expect(run.code).toBe(0);
        expect(server.callCount("GET", /\/lbs$/)).toBe(2);
    });
});

describe("status of a stack whose network is known by name", () => {
    it("resolves prod's pn-prod through the VPC API and reads the LB's IP in each environment", async () => {
        const prodNetwork = "0f6b1d2e-3c4a-4b5d-8e6f-7a8b9c0d1e2f";
        server.seedLoadBalancer({
            name: "private-lb-prod-test",
            zone: "fr-par-1",
            privateNetworks: [
                { id: prodNetwork, name: "pn-prod", ip: "172.16.0.10/22" },
                { id: "7c1e2d3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f", ip: "172.16.4.10/22" },
            ],
        });
        const { report } = await statusJson("--stack", THREE_APPS, "--skip-dns");
        expect(report.problems.map((problem) => problem.kind)).not.toContain("private-network-unresolved");
        expect(report.loadBalancers[0].privateIps).toEqual({ prod: "172.16.0.10", monitoring: "172.16.4.10" });
        expect(report.problems.map((problem) => problem.message)).toEqual([
            "no load balancer named private-lb-prod-backoffice in fr-par-1: has `pulumi up -s three-apps` run with these credentials?",
        ]);
        expect(server.callCount("GET", /^\/vpc\/v2\/regions\/fr-par\/private-networks/)).toBeGreaterThan(0);
    });

    it("expects one LB per app that owns one, each with the TLS ports of the apps on it", async () => {
        const prodNetwork = { id: "0f6b1d2e-3c4a-4b5d-8e6f-7a8b9c0d1e2f", name: "pn-prod", ip: "172.16.0.10/22" };
        server.seedLoadBalancer({
            name: "private-lb-prod-test",
            zone: "fr-par-1",
            privateNetworks: [prodNetwork, { id: "7c1e2d3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f", ip: "172.16.4.10/22" }],
        });
        server.seedLoadBalancer({
            name: "private-lb-prod-backoffice",
            zone: "fr-par-1",
            privateNetworks: [{ ...prodNetwork, ip: "172.16.0.11/22" }],
        });
        const { code, report } = await statusJson("--stack", THREE_APPS, "--skip-dns");
        expect(code).toBe(1);
        expect(report.expected).toEqual([
            { name: "private-lb-prod-test", zone: "fr-par-1" },
            { name: "private-lb-prod-backoffice", zone: "fr-par-1" },
        ]);
        expect(report.loadBalancers.map((lb) => [lb.name, lb.privateIps, lb.problems.map((problem) => problem.message)])).toEqual([
            [
                "private-lb-prod-test",
                { prod: "172.16.0.10", monitoring: "172.16.4.10" },
                [
                    "no frontend on port 443 for app test: the CCM has not created it (check the Service and the CCM's events)",
                    "no frontend on port 8443 for app grafana: the CCM has not created it (check the Service and the CCM's events)",
                ],
            ],
            [
                "private-lb-prod-backoffice",
                { prod: "172.16.0.11" },
                ["no frontend on port 443 for app backoffice: the CCM has not created it (check the Service and the CCM's events)"],
            ],
        ]);
        expect(report.problems).toEqual([]);
    });

    it("reports a network name that matches nothing", async () => {
        server.seedLoadBalancer({
            name: "private-lb-prod-test",
            zone: "fr-par-1",
            privateNetworks: [{ id: "0f6b1d2e-3c4a-4b5d-8e6f-7a8b9c0d1e2f", name: "pn-other", ip: "172.16.0.10/22" }],
        });
        const { code, report } = await statusJson("--stack", THREE_APPS, "--skip-dns");
        expect(code).toBe(1);
        expect(report.problems.map((problem) => problem.kind)).toContain("private-network-unresolved");
    });
});

/** The zone of the staging stack, with A records as `pulumi up` would have made them (or not). */
async function stagingZone(records: { name: string; content: string; proxied?: boolean }[]): Promise<void> {
    const zone = cloudflare.addZone("example.net");
    const client = new Cloudflare({ apiToken: cloudflare.apiToken, baseURL: cloudflare.baseUrl });
    for (const record of records) {
        await client.dns.records.create({
            zone_id: zone.id,
            type: "A",
            name: record.name,
            content: record.content,
            ttl: 120,
            proxied: record.proxied ?? false,
        });
    }
}

describe("status checks the Cloudflare A records", () => {
    it("is healthy when every name points at the LB's private IP in its environment, unproxied", async () => {
        await healthyStaging();
        await stagingZone([{ name: STAGING_NAME, content: STAGING_IP }]);
        const human = await status("--stack", ONE_APP);
        expect(human.code).toBe(0);
        expect(human.out).not.toContain("DNS not checked");
        expect(human.out.split("\n").find((line) => line.startsWith(STAGING_NAME))).toMatch(
            new RegExp(`^${STAGING_NAME}\\s+staging\\s+${STAGING_IP}\\s+${STAGING_IP}\\s+yes$`),
        );
        const { code, report } = await statusJson("--stack", ONE_APP);
        expect(code).toBe(0);
        expect(report.dnsChecked).toBe(true);
        expect(report.loadBalancers[0].dns).toEqual([
            { app: "test", environment: "staging", fqdn: STAGING_NAME, expected: STAGING_IP, actual: [STAGING_IP], ok: true },
        ]);
    });

    it("reports a name with no A record", async () => {
        await healthyStaging();
        await stagingZone([]);
        const run = await status("--stack", ONE_APP);
        expect(run.code).toBe(1);
        expect(run.out).toContain(`[dns-record-missing] ${STAGING_NAME} has no A record: expected ${STAGING_IP} (the LB in staging)`);
    });

    it("reports a name pointing elsewhere", async () => {
        await healthyStaging();
        await stagingZone([{ name: STAGING_NAME, content: "10.0.0.7" }]);
        const run = await status("--stack", ONE_APP);
        expect(run.code).toBe(1);
        expect(run.out).toContain(
            `[dns-record-wrong] ${STAGING_NAME} points at 10.0.0.7, not at the LB's private IP in staging (${STAGING_IP})`,
        );
        const { report } = await statusJson("--stack", ONE_APP);
        expect(kinds(report)).toEqual(["dns-record-wrong"]);
        expect(report.loadBalancers[0].dns[0]).toMatchObject({ expected: STAGING_IP, actual: ["10.0.0.7"], ok: false });
    });

    it("reports a proxied record", async () => {
        await healthyStaging();
        await stagingZone([{ name: STAGING_NAME, content: STAGING_IP, proxied: true }]);
        const { code, report } = await statusJson("--stack", ONE_APP);
        expect(code).toBe(1);
        expect(kinds(report)).toEqual(["dns-record-proxied"]);
    });

    it("reports a zone the token cannot see", async () => {
        await healthyStaging();
        const run = await status("--stack", ONE_APP);
        expect(run.code).toBe(1);
        expect(run.out).toContain(
            `[dns-lookup-failed] Cloudflare lookup of ${STAGING_NAME} failed: 0 Cloudflare zones named example.net are visible to this token`,
        );
    });
});

describe("status usage and credential errors (exit 2)", () => {
    it("names the environment variables when the Scaleway keys are missing", async () => {
        let err = "";
        const code = await runStatus(["--stack", ONE_APP, "--skip-dns"], { env: {}, out: () => undefined, err: (text) => (err += text) });
        expect(code).toBe(2);
        expect(err).toContain("SCW_ACCESS_KEY and SCW_SECRET_KEY");
    });

    it("asks for the Cloudflare token unless --skip-dns", async () => {
        let err = "";
        const code = await runStatus(["--stack", ONE_APP], { env: server.env, out: () => undefined, err: (text) => (err += text) });
        expect(code).toBe(2);
        expect(err).toContain("CLOUDFLARE_API_TOKEN");
        expect(err).toContain("or pass --skip-dns to check the LB without the Cloudflare A records");
    });

    it("names the stack file that is not valid YAML", async () => {
        const root = mkdtempSync(join(tmpdir(), "status-yaml-"));
        try {
            copyFileSync(join(projectRoot, "Pulumi.yaml"), join(root, "Pulumi.yaml"));
            writeFileSync(join(root, "Pulumi.broken.yaml"), "config:\n  scw-private-lb:environment: prod: oops\n");
            let err = "";
            const code = await runStatus(["--stack", "broken", "--skip-dns"], {
                env: server.env,
                root,
                out: () => undefined,
                err: (text) => (err += text),
            });
            expect(code).toBe(2);
            expect(err).toMatch(/^status: Pulumi\.broken\.yaml is not valid YAML: /);
        } finally {
            rmSync(root, { recursive: true, force: true });
        }
    });

    it("refuses a missing --stack, an unknown flag and an unknown stack", async () => {
        expect((await status()).code).toBe(2);
        expect((await status()).err).toContain("--stack is required");
        expect((await status("--stack", ONE_APP, "--verbose")).err).toContain("Unknown option '--verbose'");
        const unknown = await status("--stack", "qa", "--skip-dns");
        expect(unknown.code).toBe(2);
        expect(unknown.err).toContain(`no stack file Pulumi.qa.yaml; stacks in this project: ${availableStacks().join(", ")}`);
    });

    it("reports refused credentials as exit 2 with a JSON error document", async () => {
        let out = "";
        const code = await runStatus(["--stack", ONE_APP, "--skip-dns", "--json"], {
            env: { ...server.env, SCW_SECRET_KEY: "6ba7b810-9dad-11d1-80b4-00c04fd430c8" },
            retry: FAST_RETRY,
            out: (text) => (out += text),
            err: () => undefined,
        });
        expect(code).toBe(2);
        expect((JSON.parse(out) as { error: string }).error).toMatch(
            /^the check could not run: Scaleway API at http:\/\/127\.0\.0\.1:\d+: the Scaleway API refused the credentials in SCW_ACCESS_KEY \/ SCW_SECRET_KEY \(denied authentication/,
        );
    });

    it("says which API could not be reached, and which variable points at it", async () => {
        let err = "";
        const closedPort = await freeTcpPort();
        const code = await runStatus(["--stack", ONE_APP, "--skip-dns"], {
            env: { ...server.env, SCW_API_URL: `http://127.0.0.1:${closedPort}` },
            retry: FAST_RETRY,
            out: () => undefined,
            err: (text) => (err += text),
        });
        expect(code).toBe(2);
        expect(err).toMatch(
            new RegExp(`^status: the check could not run: Scaleway API at http://127\\.0\\.0\\.1:${closedPort}: .*ECONNREFUSED`),
        );
    });
});

describe("status as a real command", () => {
    const run = promisify(execFile);
    const command = (args: string[], env: Record<string, string>) =>
        run(process.execPath, ["-r", "ts-node/register/transpile-only", join(projectRoot, "scripts", "status.ts"), ...args], {
            cwd: projectRoot,
            env: { PATH: process.env.PATH ?? "", ...env },
        }).then(
            ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
            (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, stdout: error.stdout, stderr: error.stderr }),
        );

    it("exits 0 when healthy, 1 on a problem and 2 without credentials", async () => {
        const { lb } = await healthyStaging();
        const healthy = await command(["--stack", ONE_APP, "--skip-dns", "--json"], server.env);
        expect(healthy.stderr).toBe("");
        expect(healthy.code).toBe(0);
        expect((JSON.parse(healthy.stdout) as StatusReport).healthy).toBe(true);

        await upload(lb, FRESH, "left-over");
        const problem = await command(["--stack", ONE_APP, "--skip-dns"], server.env);
        expect(problem.code).toBe(1);
        expect(problem.stdout).toContain("[certificate-unused]");

        const noCredentials = await command(["--stack", ONE_APP, "--skip-dns"], {});
        expect(noCredentials.code).toBe(2);
        expect(noCredentials.stderr).toContain("SCW_ACCESS_KEY and SCW_SECRET_KEY");
    });
});
