/**
 * The program under mocks with the fixture stack of three apps in prod: two with an LB of their own on
 * 443 (one overriding the stack's LB defaults), one sharing the first app's LB on 8443.
 */
import { beforeAll, describe, expect, it } from "vitest";
import {
    CERTIFICATE_TYPE,
    fakeCertificateId,
    fakePrivateIp,
    fakePrivateNetworkId,
    fakeUuid,
    fakeZoneId,
    MockWorld,
    valueOf,
} from "./support/pulumiMocks";
import { fixtureStack, Program, runProgram } from "./support/program";
import { claimedTwice } from "./support/upgrade";

let world: MockWorld;
let program: Program;

const STACK = "urn:pulumi:three-apps::scw-private-lb::";
const PLB = "scw-private-lb:loadbalancer:PrivateLoadBalancer";
const LB = "scaleway:loadbalancers/loadBalancer:LoadBalancer";
const PN = "scaleway:loadbalancers/privateNetwork:PrivateNetwork";
const ACME = "scw-private-lb:certificate:AcmeCertificate";
const ENDPOINT = "scw-private-lb:endpoint:PrivateEndpoint";
const PS = "scw-private-lb:kubernetes:PrivateService";
const SERVICE = "kubernetes:core/v1:Service";
const DNS = "scw-private-lb:dns:PrivateDnsRecords";
const RECORD = "cloudflare:index/dnsRecord:DnsRecord";

const PROD_PN = fakePrivateNetworkId("pn-prod");
const MONITORING_PN = "fr-par/7c1e2d3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f";
const TEST_LB = fakeUuid("test");
const BACKOFFICE_LB = fakeUuid("backoffice");
const ANNOTATION = "service.beta.kubernetes.io/scw-loadbalancer-";

beforeAll(async () => {
    ({ world, program } = await runProgram(fixtureStack("three-apps")));
});

type ServiceInputs = {
    metadata: { name: string; namespace: string; annotations: Record<string, string> };
    spec: { ports: unknown[]; selector: unknown };
};
const serviceOf = (app: string) => world.one(SERVICE, app).inputs as ServiceInputs;

describe("three apps: two own LBs on 443, one sharing on 8443", () => {
    it("declares exactly this graph: two LBs, three endpoints, three certificates, no stuttering names", () => {
        expect(world.resources.map((r) => r.urn.slice(STACK.length)).sort()).toEqual(
            [
                "pulumi:providers:kubernetes::kubernetes",
                "tls:index/privateKey:PrivateKey::acme-account-key",
                `${PLB}::test`,
                `${PLB}$${LB}::test`,
                `${PLB}$${PN}::test-prod`,
                `${PLB}$${PN}::test-monitoring`,
                `${PLB}::backoffice`,
                `${PLB}$${LB}::backoffice`,
                `${PLB}$${PN}::backoffice-prod`,
                ...["test", "backoffice", "grafana"].flatMap((app) => [
                    `${ACME}::${app}`,
                    `${ACME}$${CERTIFICATE_TYPE}::${app}-certificate`,
                    `${ENDPOINT}::${app}`,
                    `${ENDPOINT}$${PS}::${app}`,
                    `${ENDPOINT}$${PS}$${SERVICE}::${app}`,
                    `${ENDPOINT}$${DNS}::${app}`,
                    `${ENDPOINT}$${DNS}$${RECORD}::${app}-prod`,
                ]),
                `${ENDPOINT}$${DNS}$${RECORD}::test-monitoring`,
                `${ENDPOINT}$${DNS}$${RECORD}::grafana-monitoring`,
            ].sort(),
        );
    });

    it("claims no URN twice (by name or alias)", () => {
        expect(claimedTwice(world)).toEqual([]);
    });

    it("names each LB by the convention and attaches the networks of the environments its app is reachable from", () => {
        // The stack's defaults (PrivateLoadBalancer's own inputs are the components test's).
        expect(world.one(LB, "test").inputs).toMatchObject({
            name: "private-lb-prod-test",
            type: "LB-S",
            zone: "fr-par-1",
            tags: ["env=prod"],
            assignFlexibleIp: false,
        });
        // backoffice overrides the offer, the tags and reachableFrom (prod only).
        expect(world.one(LB, "backoffice").inputs).toMatchObject({
            name: "private-lb-prod-backoffice",
            type: "LB-GP-M",
            zone: "fr-par-1",
            tags: ["env=prod", "team=backoffice"],
        });
        expect(world.one(PN, "test-prod").inputs).toEqual({ lbId: `fr-par-1/${TEST_LB}`, privateNetworkId: PROD_PN, zone: "fr-par-1" });
        expect(world.one(PN, "test-monitoring").inputs).toEqual({
            lbId: `fr-par-1/${TEST_LB}`,
            privateNetworkId: MONITORING_PN,
            zone: "fr-par-1",
        });
        expect(world.one(PN, "backoffice-prod").inputs).toEqual({
            lbId: `fr-par-1/${BACKOFFICE_LB}`,
            privateNetworkId: PROD_PN,
            zone: "fr-par-1",
        });
    });

    it("gives three Services whose annotations name their own LB, each app on its port", () => {
        const expected = (lb: string, port: number, app: string) => ({
            [`${ANNOTATION}externally-managed`]: "true",
            [`${ANNOTATION}id`]: `fr-par-1/${lb}`,
            [`${ANNOTATION}zone`]: "fr-par-1",
            [`${ANNOTATION}private`]: "true",
            [`${ANNOTATION}certificate-ids`]: `${port}:${fakeCertificateId("fr-par-1", `${app}-certificate`)}`,
        });
        expect(serviceOf("test").metadata).toEqual({
            name: "test-lb-private",
            namespace: "ops-tools",
            annotations: expected(TEST_LB, 443, "test"),
        });
        expect(serviceOf("backoffice").metadata).toEqual({
            name: "backoffice-lb-private",
            namespace: "backoffice",
            annotations: expected(BACKOFFICE_LB, 443, "backoffice"),
        });
        expect(serviceOf("grafana").metadata).toEqual({
            name: "grafana-lb-private",
            namespace: "monitoring",
            annotations: expected(TEST_LB, 8443, "grafana"),
        });
        expect(serviceOf("test").spec.ports).toEqual([
            { name: "https", port: 443, targetPort: 80, protocol: "TCP" },
            { name: "test", port: 81, targetPort: 81, protocol: "TCP" },
        ]);
        expect(serviceOf("backoffice").spec.ports).toEqual([{ name: "https", port: 443, targetPort: 8080, protocol: "TCP" }]);
        expect(serviceOf("grafana").spec).toEqual({
            type: "LoadBalancer",
            selector: { app: "grafana" },
            ports: [{ name: "https", port: 8443, targetPort: 3000, protocol: "TCP" }],
        });
    });

    it("takes the Kubernetes provider through the resource options: every Service uses the stack's provider", () => {
        const provider = world.one("pulumi:providers:kubernetes", "kubernetes");
        expect(provider.inputs).toMatchObject({ kubeconfig: "/etc/kubernetes/admin.conf" });
        expect(world.byType(SERVICE).map((service) => service.provider)).toEqual([1, 2, 3].map(() => `${provider.urn}::kubernetes-id`));
    });

    it("points each A record at the private IP, in that environment, of the LB its app is on", () => {
        const record = (name: string) => world.one(RECORD, name).inputs;
        const common = { type: "A", proxied: false, ttl: 300, zoneId: fakeZoneId("example.net") };
        expect(record("test-prod")).toMatchObject({ ...common, name: "test.prod.example.net", content: fakePrivateIp(PROD_PN, TEST_LB) });
        expect(record("test-monitoring")).toMatchObject({
            ...common,
            name: "test.monitoring.example.net",
            content: fakePrivateIp(MONITORING_PN, TEST_LB),
        });
        expect(record("backoffice-prod")).toMatchObject({
            ...common,
            name: "backoffice.prod.example.net",
            content: fakePrivateIp(PROD_PN, BACKOFFICE_LB),
        });
        expect(record("grafana-prod")).toMatchObject({
            ...common,
            name: "grafana.prod.example.net",
            content: fakePrivateIp(PROD_PN, TEST_LB),
        });
        expect(record("grafana-monitoring")).toMatchObject({
            ...common,
            name: "grafana.monitoring.example.net",
            content: fakePrivateIp(MONITORING_PN, TEST_LB),
        });
        expect(fakePrivateIp(PROD_PN, TEST_LB)).not.toBe(fakePrivateIp(PROD_PN, BACKOFFICE_LB));
    });

    it("orders one certificate per app for its names, on its LB, bound through the annotation on its port", () => {
        const certificate = (app: string) => world.one(CERTIFICATE_TYPE, `${app}-certificate`).inputs;
        expect(certificate("test")).toMatchObject({
            domains: ["test.prod.example.net", "test.monitoring.example.net"],
            loadBalancerId: `fr-par-1/${TEST_LB}`,
            zone: "fr-par-1",
            acmeDirectoryUrl: "https://acme-v02.api.letsencrypt.org/directory",
            email: "ops@example.net",
            keyType: "ecdsa-p256",
            binding: { mode: "annotation", frontendPort: 443 },
            cloudflareZones: ["example.net"],
        });
        expect(certificate("backoffice")).toMatchObject({
            domains: ["backoffice.prod.example.net"],
            loadBalancerId: `fr-par-1/${BACKOFFICE_LB}`,
            binding: { mode: "annotation", frontendPort: 443 },
        });
        expect(certificate("grafana")).toMatchObject({
            domains: ["grafana.prod.example.net", "grafana.monitoring.example.net"],
            loadBalancerId: `fr-par-1/${TEST_LB}`,
            binding: { mode: "annotation", frontendPort: 8443 },
        });
        // One ACME account for the stack, passed as a secret to every certificate.
        expect(world.byType("tls:index/privateKey:PrivateKey").map((key) => key.name)).toEqual(["acme-account-key"]);
        for (const app of ["test", "backoffice", "grafana"]) {
            expect(world.one(CERTIFICATE_TYPE, `${app}-certificate`).wire.accountKeyPem).toHaveProperty("4dabf18193072939515e22adb298388d");
        }
    });

    it("exports per app its LB, names, ports and certificate", async () => {
        expect(program.environment).toBe("prod");
        const testLb = {
            owner: "test",
            id: `fr-par-1/${TEST_LB}`,
            uuid: TEST_LB,
            name: "private-lb-prod-test",
            zone: "fr-par-1",
            privateIps: { prod: fakePrivateIp(PROD_PN, TEST_LB), monitoring: fakePrivateIp(MONITORING_PN, TEST_LB) },
        };
        expect(await valueOf(program.loadBalancers)).toEqual({
            test: testLb,
            backoffice: {
                owner: "backoffice",
                id: `fr-par-1/${BACKOFFICE_LB}`,
                uuid: BACKOFFICE_LB,
                name: "private-lb-prod-backoffice",
                zone: "fr-par-1",
                privateIps: { prod: fakePrivateIp(PROD_PN, BACKOFFICE_LB) },
            },
            grafana: testLb,
        });
        expect(await valueOf(program.fqdns)).toEqual({
            test: ["test.prod.example.net", "test.monitoring.example.net"],
            backoffice: ["backoffice.prod.example.net"],
            grafana: ["grafana.prod.example.net", "grafana.monitoring.example.net"],
        });
        expect(program.httpsPorts).toEqual({ test: 443, backoffice: 443, grafana: 8443 });
        expect(program.lbPorts).toEqual({ test: [443, 81], backoffice: [443], grafana: [8443] });
        const certificate = (app: string) => ({
            id: fakeCertificateId("fr-par-1", `${app}-certificate`),
            notAfter: "2027-02-20T00:00:00.000Z",
            renewalDueAt: "2027-01-21T00:00:00.000Z",
        });
        expect(await valueOf(program.certificates)).toEqual({
            test: certificate("test"),
            backoffice: certificate("backoffice"),
            grafana: certificate("grafana"),
        });
    });
});
