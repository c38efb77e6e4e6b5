/** The sandbox's pure decisions: what it seeds for a stack and which inputs each certificate gets. */
import { generateKeyPairSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import { appPlans } from "../components/config";
import { checkInputs } from "../components/certificate/validation";
import { certificateInputsFor, parseSandboxArgs, renewalClock, seedPlanOf, stableUuid } from "../scripts/sandboxPlan";
import { loadStackConfig } from "../scripts/stackConfig";
import { fixtureStack } from "./support/program";

const ACME = {
    directoryUrl: "https://127.0.0.1:14000/dir",
    accountKeyPem: generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    dnsResolver: "127.0.0.1:8053",
};
const LB_ID = "fr-par-1/0d1b714f-2767-4937-a9e5-4399cfd45338";

describe("parseSandboxArgs", () => {
    it("defaults to staging and takes --stack", () => {
        expect(parseSandboxArgs([])).toEqual({ ok: true, stack: "staging", keep: false });
        expect(parseSandboxArgs(["--stack", "prod"])).toEqual({ ok: true, stack: "prod", keep: false });
        expect(parseSandboxArgs(["--stack=prod"])).toEqual({ ok: true, stack: "prod", keep: false });
        const containing = (text: string): unknown => expect.stringContaining(text);
        expect(parseSandboxArgs(["--stack"])).toMatchObject({
            ok: false,
            help: false,
            message: containing("Option '-s, --stack <value>' argument missing"),
        });
        expect(parseSandboxArgs(["--renew"])).toMatchObject({
            ok: false,
            help: false,
            message: containing("Unknown option '--renew'"),
        });
        expect(parseSandboxArgs(["--help"])).toMatchObject({ ok: false, help: true });
    });
});

describe("seedPlanOf", () => {
    it("seeds one LB per app that owns one, with its networks and a CCM-named frontend per app on it, the zone and every A record", () => {
        const plan = seedPlanOf(loadStackConfig(fixtureStack("three-apps")));
        const prod = (ip: string) => ({
            environment: "prod",
            privateNetworkId: stableUuid("private-network:pn-prod"),
            name: "pn-prod",
            ip,
        });
        const monitoring = (ip: string) => ({
            environment: "monitoring",
            privateNetworkId: "7c1e2d3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f",
            name: undefined,
            ip,
        });
        expect(plan.loadBalancers.map(({ owner, name, zone, networks }) => ({ owner, name, zone, networks }))).toEqual([
            // prod's network is declared by name: it gets a stable id; monitoring's declared id is kept. Each LB has its own IPs.
            { owner: "test", name: "private-lb-prod-test", zone: "fr-par-1", networks: [prod("172.16.0.10"), monitoring("172.16.4.10")] },
            { owner: "backoffice", name: "private-lb-prod-backoffice", zone: "fr-par-1", networks: [prod("172.16.0.11")] },
        ]);
        expect(plan.loadBalancers.map((lb) => lb.frontends.map((frontend) => [frontend.app, frontend.port]))).toEqual([
            [
                ["test", 443],
                ["grafana", 8443],
            ],
            [["backoffice", 443]],
        ]);
        for (const frontend of plan.loadBalancers.flatMap((lb) => lb.frontends)) {
            expect(frontend.name).toMatch(
                new RegExp(`^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}_tcp_${frontend.port}$`),
            );
        }
        expect(plan.zones).toEqual([{ name: "example.net" }]);
        expect(plan.aRecords).toEqual([
            { zone: "example.net", fqdn: "test.prod.example.net", ip: "172.16.0.10" },
            { zone: "example.net", fqdn: "test.monitoring.example.net", ip: "172.16.4.10" },
            { zone: "example.net", fqdn: "backoffice.prod.example.net", ip: "172.16.0.11" },
            { zone: "example.net", fqdn: "grafana.prod.example.net", ip: "172.16.0.10" },
            { zone: "example.net", fqdn: "grafana.monitoring.example.net", ip: "172.16.4.10" },
        ]);
    });
});

describe("certificateInputsFor", () => {
    it("gives each app all its names, its own TLS port and the stack's renewal floor, and passes the provider's check", () => {
        const config = loadStackConfig(fixtureStack("three-apps"));
        const inputs = certificateInputsFor(config, appPlans(config)[2], LB_ID, ACME);
        expect(inputs).toMatchObject({
            domains: ["grafana.prod.example.net", "grafana.monitoring.example.net"],
            loadBalancerId: LB_ID,
            zone: "fr-par-1",
            acmeDirectoryUrl: ACME.directoryUrl,
            email: "ops@example.net",
            binding: { mode: "annotation", frontendPort: 8443 },
            dnsResolvers: [ACME.dnsResolver],
            cloudflareZones: ["example.net"],
            renewal: {},
        });
        expect(Object.values(inputs)).not.toContain(undefined);
        expect(checkInputs(inputs).failures).toEqual([]);

        const oneApp = loadStackConfig(fixtureStack("one-app"));
        const oneAppInputs = certificateInputsFor(oneApp, appPlans(oneApp)[0], LB_ID, ACME);
        expect(oneAppInputs.renewal).toEqual({ minDaysRemaining: 30 });
        expect(checkInputs(oneAppInputs).failures).toEqual([]);
    });

    it("leaves the zone list out when a zone is known only by id, as the program does", () => {
        const config = loadStackConfig(fixtureStack("three-apps"));
        const mixed = {
            ...config,
            environments: {
                ...config.environments,
                monitoring: {
                    ...config.environments.monitoring,
                    cloudflareZone: undefined,
                    cloudflareZoneId: "0123456789abcdef0123456789abcdef",
                },
            },
        };
        expect(certificateInputsFor(mixed, appPlans(mixed)[0], LB_ID, ACME)).not.toHaveProperty("cloudflareZones");
    });
});

describe("renewalClock", () => {
    it("lands just past the latest renewal date", () => {
        expect(renewalClock(["2027-01-01T00:00:00.000Z", "2027-01-03T00:00:00.000Z"]).toISOString()).toBe("2027-01-03T00:01:00.000Z");
    });
});
