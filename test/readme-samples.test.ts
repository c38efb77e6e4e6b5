/**
 * The README's sample outputs are what the commands print. Samples made of pure renderings (status, the
 * webhook text, the renewal guard) are compared exactly with the rendering of the situation they show;
 * samples of whole runs (`npm start`, `npm start -- --keep`, `npm run check`) are compared line by line
 * with a real run on the fixture stack (environment `watch` instead of `staging`), once the parts that
 * change from run to run (ids, numbers, durations, the environment's name) are masked.
 */
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runSandbox } from "../scripts/sandbox";
import { keptSandboxLines } from "../scripts/sandboxPlan";
import { checkRenewalPlan, renderRenewalVerdict } from "../scripts/renewalGuard";
import { projectRoot } from "../scripts/stackConfig";
import {
    buildStatusReport,
    renderStatus,
    webhookMessageOf,
    type ObservedCertificate,
    type StatusObservation,
} from "../scripts/statusReport";
import { opsFixtureRoot, type FixtureRoot } from "./support/opsFixtures";

const readme = readFileSync(join(projectRoot, "README.md"), "utf8");

/** The README's code block that holds `marker`, or the first one after it. */
function sampleAfter(marker: string): string {
    const start = readme.indexOf(marker);
    expect(start, `the README holds "${marker}"`).toBeGreaterThanOrEqual(0);
    const block = [...readme.matchAll(/```[a-z]*\n([\s\S]*?)```/g)].find((match) => (match.index ?? 0) + match[0].length > start);
    expect(block, `a code block at or after "${marker}"`).toBeDefined();
    return block?.[1] ?? "";
}

/** Masks what changes between runs and stacks, and the alignment that follows from it. */
function shape(text: string): string[] {
    return text
        .trimEnd()
        .split("\n")
        .map((line) =>
            line
                .replace(/\b(staging|watch)\b/g, "ENV")
                .replace(/=\S+/g, "=V")
                .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, "ID")
                .replace(/\/tmp\/\S+?(\.|\s|$)/g, "TMP$1")
                .replace(/\d+(\.\d+)? (ms|s)\b/g, "DURATION")
                .replace(/\d+/g, "N")
                .replace(/ {2,}/g, " ")
                .replace(/-{2,}/g, "-")
                .trimEnd(),
        );
}

const DAY_MS = 86_400_000;

function certificate(id: string, name: string, notBefore: string, notAfter: string, fqdn: string): ObservedCertificate {
    return {
        id,
        name,
        status: "ready",
        commonName: fqdn,
        subjectAlternativeNames: [fqdn],
        notValidBefore: notBefore,
        notValidAfter: notAfter,
    };
}

const LB_UUID = "17c5adaf-b431-4c6d-83be-222175a758f3";
const FRONTEND = "4f1c2e3d-aaaa-4bbb-8ccc-123456789abc_tcp_443";

/** One environment's LB with one TLS frontend on 443 carrying `bound`, as the APIs would describe it. */
function oneLb(environment: string, ip: string, certificates: ObservedCertificate[], bound: string, now: string): StatusObservation {
    const network = "3b9f6e2a-1c4d-4e8f-a7b6-5d4c3b2a1f0e";
    const name = `private-lb-${environment}-test`;
    return {
        stack: environment,
        environment,
        expected: [
            {
                name,
                zone: "fr-par-1",
                environments: [environment],
                tlsPorts: [{ app: "test", port: 443 }],
                dnsNames: [{ app: "test", environment, fqdn: `test.${environment}.example.com` }],
            },
        ],
        networks: [{ environment, privateNetworkId: network }],
        loadBalancers: [
            {
                id: LB_UUID,
                name,
                zone: "fr-par-1",
                privateIps: { [network]: ip },
                frontends: [{ id: "f1", name: FRONTEND, inboundPort: 443, certificateIds: [bound] }],
                certificates,
            },
        ],
        now: new Date(now),
    };
}

describe("pure samples, exactly", () => {
    it("status: the staging LB with an expired left-over certificate", () => {
        const fqdn = "test.staging.example.com";
        const current = "5ed5a7be-e91c-4a48-a859-2e15045bacc6";
        const observation: StatusObservation = {
            ...oneLb(
                "staging",
                "172.16.8.5",
                [
                    certificate(current, `${fqdn} exp 2027-01-31 4f2a9c1e`, "2026-11-02T11:14:00Z", "2027-01-31T11:14:00Z", fqdn),
                    certificate(
                        "eeca4067-8e0b-4069-9e91-5cbad2c70391",
                        `${fqdn} exp 2026-11-17 0a1b2c3d`,
                        "2026-08-19T11:14:00Z",
                        "2026-11-17T11:14:00Z",
                        fqdn,
                    ),
                ],
                current,
                "2026-11-22T11:14:30Z",
            ),
            renewalMinDaysRemaining: 30,
            dns: { lookups: { [fqdn]: { records: [{ content: "172.16.8.5", proxied: false }] } } },
        };
        const sample = sampleAfter("Sample output:\n\n```\nStack staging");
        expect(`${renderStatus(buildStatusReport(observation))}(exit 1)\n`).toBe(sample);
    });

    it("the webhook text of an overdue renewal", () => {
        const uuid = "5ed5a7be-e91c-4a48-a859-2e15045bacc6";
        const notAfter = "2026-12-30T04:23:00Z";
        const issued = new Date(Date.parse(notAfter) - 90 * DAY_MS).toISOString();
        const report = buildStatusReport(
            oneLb(
                "prod",
                "172.16.0.10",
                [certificate(uuid, "test.prod.example.com exp 2026-12-30 4f2a9c1e", issued, notAfter, "test.prod.example.com")],
                uuid,
                "2026-12-01T11:14:00Z",
            ),
        );
        expect(`${webhookMessageOf(report).text}\n`).toBe(sampleAfter("does not change the exit code:"));
    });

    it("the renewal guard on a due renewal", () => {
        const plan = JSON.parse(readFileSync(join(projectRoot, "test", "fixtures", "preview", "renewal-due.json"), "utf8")) as unknown;
        const sample = sampleAfter("$ npm run renewal-guard");
        expect(sample.split("\n").slice(1).join("\n")).toBe(`${renderRenewalVerdict(checkRenewalPlan(plan))}\n`);
    });
});

describe("samples of whole runs, line by line", () => {
    let fixture: FixtureRoot;
    beforeAll(() => {
        fixture = opsFixtureRoot();
    });
    afterAll(() => fixture.remove());

    it("npm start", async () => {
        const lines: string[] = [];
        const code = await runSandbox(["--stack", "watch"], {
            root: fixture.root,
            out: (line) => lines.push(line),
            err: (line) => lines.push(line),
        });
        expect(code, lines.join("\n")).toBe(0);
        expect(shape(lines.join("\n"))).toEqual(shape(sampleAfter("Sample output (staging):")));
    }, 90_000);

    it("npm start -- --keep", () => {
        const env = {
            SCW_ACCESS_KEY: "SCWAAAAAAAAAAAAAAAAA",
            SCW_SECRET_KEY: "s",
            SCW_API_URL: "u",
            CLOUDFLARE_API_TOKEN: "t",
            CLOUDFLARE_BASE_URL: "b",
        };
        expect(shape(keptSandboxLines("watch", env).join("\n"))).toEqual(
            shape(sampleAfter("prints the environment that points `status` at the local APIs:")),
        );
    });

    it("npm run check", async () => {
        const { stdout } = await promisify(execFile)(
            process.execPath,
            [
                "-r",
                "ts-node/register/transpile-only",
                "-e",
                `require("./scripts/check").runCheck(["--stack", "watch", "--renewal-workflow", ".github/workflows/renewal.yml"], { root: ${JSON.stringify(fixture.root)} }).then((code) => process.exit(code))`,
            ],
            { cwd: projectRoot, env: { PATH: "/nonexistent" } },
        );
        const sample = sampleAfter("$ npm run check -- --stack staging --renewal-workflow");
        expect(sample.split("\n")[0]).toBe("$ npm run check -- --stack staging --renewal-workflow .github/workflows/renewal.yml");
        expect(shape(stdout)).toEqual(shape(sample.split("\n").slice(1).join("\n")));
    }, 60_000);
});
