/** The sandbox's pure decisions: what it seeds for a stack and which inputs each certificate gets. */
import { generateKeyPairSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import { checkInputs } from "../components/certificate/validation";
import { certificateInputsFor, parseSandboxArgs, renewalClock, seedPlanOf, stableUuid } from "../scripts/sandboxPlan";
import { loadStackConfig } from "../scripts/stackConfig";

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
        expect(parseSandboxArgs(["--stack"])).toMatchObject({ ok: false, help: false, message: expect.stringContaining("--stack needs a stack name") });
        expect(parseSandboxArgs(["--renew"])).toMatchObject({ ok: false, help: false, message: expect.stringContaining("unknown argument --renew") });
        expect(parseSandboxArgs(["--help"])).toMatchObject({ ok: false, help: true });
    });
});

describe("seedPlanOf", () => {
    it("seeds the prod LB with both networks, a CCM-named frontend per TLS port, the zone and every A record", () => {
        const plan = seedPlanOf(loadStackConfig("prod"));
        expect(plan.loadBalancerName).toBe("private-lb-prod-test");
        // prod's network is declared by name: it gets a stable id; monitoring's declared id is kept.
        expect(plan.networks).toEqual([
            { environment: "prod", privateNetworkId: stableUuid("private-network:pn-prod"), name: "pn-prod", ip: "172.16.0.10" },
            { environment: "monitoring", privateNetworkId: "7c1e2d3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f", name: undefined, ip: "172.16.4.10" },
        ]);
        expect(plan.frontends.map((frontend) => [frontend.app, frontend.port])).toEqual([
            ["test", 443],
            ["backoffice", 8443],
        ]);
        for (const frontend of plan.frontends) {
            expect(frontend.name).toMatch(new RegExp(`^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}_tcp_${frontend.port}$`));
        }
        expect(plan.zones).toEqual([{ name: "example.com" }]);
        expect(plan.aRecords).toEqual([
            { zone: "example.com", fqdn: "test.prod.example.com", ip: "172.16.0.10" },
            { zone: "example.com", fqdn: "backoffice.prod.example.com", ip: "172.16.0.10" },
            { zone: "example.com", fqdn: "test.monitoring.example.com", ip: "172.16.4.10" },
            { zone: "example.com", fqdn: "backoffice.monitoring.example.com", ip: "172.16.4.10" },
        ]);
    });
});

describe("certificateInputsFor", () => {
    it("gives each app all its names, its own TLS port and the stack's renewal floor, and passes the provider's check", () => {
        const config = loadStackConfig("prod");
        const inputs = certificateInputsFor(config, config.apps[1], LB_ID, ACME);
        expect(inputs).toMatchObject({
            domains: ["backoffice.prod.example.com", "backoffice.monitoring.example.com"],
            loadBalancerId: LB_ID,
            zone: "fr-par-1",
            acmeDirectoryUrl: ACME.directoryUrl,
            email: "platform-team@example.com",
            binding: { mode: "annotation", frontendPort: 8443 },
            dnsResolvers: [ACME.dnsResolver],
            cloudflareZones: ["example.com"],
            renewal: {},
        });
        expect(Object.values(inputs)).not.toContain(undefined);
        expect(checkInputs(inputs).failures).toEqual([]);

        const staging = loadStackConfig("staging");
        const stagingInputs = certificateInputsFor(staging, staging.apps[0], LB_ID, ACME);
        expect(stagingInputs.renewal).toEqual({ minDaysRemaining: 30 });
        expect(checkInputs(stagingInputs).failures).toEqual([]);
    });

    it("leaves the zone list out when a zone is known only by id, as the program does", () => {
        const config = loadStackConfig("prod");
        const mixed = {
            ...config,
            environments: { ...config.environments, monitoring: { ...config.environments.monitoring, cloudflareZone: undefined, cloudflareZoneId: "0123456789abcdef0123456789abcdef" } },
        };
        expect(certificateInputsFor(mixed, mixed.apps[0], LB_ID, ACME)).not.toHaveProperty("cloudflareZones");
    });
});

describe("renewalClock", () => {
    it("lands just past the latest renewal date", () => {
        expect(renewalClock(["2027-01-01T00:00:00.000Z", "2027-01-03T00:00:00.000Z"]).toISOString()).toBe("2027-01-03T00:01:00.000Z");
    });
});
