/**
 * The consumer program under the project's mocks, with its fixture stack (test/Pulumi.fixture.yaml) and
 * the StackReference answering with the entrance's outputs: the shared LB is referenced, never created,
 * and every resource it declares passes the policy pack.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { checkInputs } from "../../../components/certificate/validation";
import { ENTRANCE_POLICIES, RESOURCE_TYPES } from "../../../policy/policies";
import { pulumiConfigOf } from "../../../scripts/stackConfig";
import { allRegistered, fakeCertificateId, fakeZoneId, installMocks, MockWorld, valueOf } from "../../../test/support/pulumiMocks";
import { ENTRANCE_OUTPUTS, ENTRANCE_STACK } from "./entrance";

const consumerDir = join(__dirname, "..");
const ANNOTATION = "service.beta.kubernetes.io/scw-loadbalancer-";
const SHARED = ENTRANCE_OUTPUTS.loadBalancers.test;
const CERTIFICATE_ID = fakeCertificateId(SHARED.zone, "kibana-certificate");

let world: MockWorld;
let program: typeof import("../index");

function only(type: string) {
    return world.byType(type);
}

beforeAll(async () => {
    world = await installMocks({
        project: "scw-private-lb-consumer",
        stack: "fixture",
        config: pulumiConfigOf(join(__dirname, "Pulumi.fixture.yaml")),
        stackOutputs: { [ENTRANCE_STACK]: ENTRANCE_OUTPUTS },
    });
    program = await import("../index");
    await allRegistered();
});

describe("consumer of the entrance stack", () => {
    it("references the entrance stack named in config and creates no LB of its own", () => {
        expect(only("pulumi:pulumi:StackReference").map((ref) => ref.inputs.name)).toEqual([ENTRANCE_STACK]);
        expect(world.resources.filter((resource) => resource.type.startsWith("scaleway:"))).toEqual([]);
    });

    it("annotates its Service with the LB of the entrance app it shares, and binds its own certificate on its own port", () => {
        const [service] = only("kubernetes:core/v1:Service");
        expect(service.inputs.metadata).toMatchObject({
            name: "kibana-lb-private",
            namespace: "logging",
            annotations: {
                [`${ANNOTATION}externally-managed`]: "true",
                [`${ANNOTATION}id`]: SHARED.id,
                [`${ANNOTATION}zone`]: SHARED.zone,
                [`${ANNOTATION}private`]: "true",
                [`${ANNOTATION}certificate-ids`]: `9443:${CERTIFICATE_ID}`,
            },
        });
        expect((service.inputs.spec as { ports: unknown[] }).ports).toEqual([
            { name: "https", port: 9443, targetPort: 5601, protocol: "TCP" },
        ]);
    });

    it("points one unproxied A record per environment at the referenced private IPs", () => {
        const records = only("cloudflare:index/dnsRecord:DnsRecord").map((record) => record.inputs);
        expect(records.map(({ name, content, proxied, type, zoneId }) => ({ name, content, proxied, type, zoneId }))).toEqual([
            {
                name: "kibana.prod.example.net",
                content: SHARED.privateIps.prod,
                proxied: false,
                type: "A",
                zoneId: fakeZoneId("example.net"),
            },
            {
                name: "kibana.monitoring.example.net",
                content: SHARED.privateIps.monitoring,
                proxied: false,
                type: "A",
                zoneId: fakeZoneId("example.net"),
            },
        ]);
        const zoneLookup = { token: "cloudflare:index/getZone:getZone", inputs: { filter: { name: "example.net" } } };
        expect(world.invokes).toMatchObject([zoneLookup, zoneLookup]);
    });

    it("orders a certificate for its names on the referenced LB", () => {
        const [certificate] = only(RESOURCE_TYPES.certificate);
        expect(certificate.inputs).toMatchObject({
            domains: ["kibana.prod.example.net", "kibana.monitoring.example.net"],
            loadBalancerId: SHARED.id,
            zone: SHARED.zone,
            email: "ops@example.net",
            acmeDirectoryUrl: "https://acme-v02.api.letsencrypt.org/directory",
            cloudflareZones: ["example.net"],
        });
        // Named after the app, with the name of earlier versions as an alias.
        expect(only("scw-private-lb:certificate:AcmeCertificate").map((component) => [component.name, component.aliases])).toEqual([
            ["kibana", ["urn:pulumi:fixture::scw-private-lb-consumer::scw-private-lb:certificate:AcmeCertificate::kibana-certificate"]],
        ]);
    });

    it("exports what it built from the referenced outputs", async () => {
        expect(await valueOf(program.loadBalancerId)).toBe(SHARED.id);
        expect(program.httpsPort).toBe(9443);
        expect(await valueOf(program.appFqdns)).toEqual(["kibana.prod.example.net", "kibana.monitoring.example.net"]);
        expect(await valueOf(program.certificateId)).toBe(CERTIFICATE_ID);
    });

    it("passes every rule of the policy pack (certificate inputs as the provider's check leaves them)", () => {
        const violations = world.resources.flatMap((resource) => {
            // The engine hands policies the inputs after the provider's `check`.
            const props = resource.type === RESOURCE_TYPES.certificate ? checkInputs(resource.inputs).inputs : resource.inputs;
            return ENTRANCE_POLICIES.flatMap((policy) =>
                policy.validate(resource.type, props, {}).map((message) => `${policy.name} on ${resource.name}: ${message}`),
            );
        });
        expect(world.resources.map((resource) => resource.type)).toEqual(
            expect.arrayContaining([RESOURCE_TYPES.service, RESOURCE_TYPES.dnsRecord, RESOURCE_TYPES.certificate]),
        );
        expect(violations).toEqual([]);
    });
});

/** Packages the components load at run time (type-only imports excluded), by package name. */
function runtimePackagesOfComponents(dir: string): string[] {
    const packages = new Set<string>();
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) {
            runtimePackagesOfComponents(path).forEach((name) => packages.add(name));
            continue;
        }
        const source = readFileSync(path, "utf8");
        const specifiers = [...source.matchAll(/^import (?!type )[^;]*?from "([^"]+)"/gm), ...source.matchAll(/require\("([^"]+)"\)/g)].map(
            (match) => match[1],
        );
        for (const specifier of specifiers.filter((name) => !name.startsWith(".") && !name.startsWith("node:"))) {
            packages.add(
                specifier
                    .split("/")
                    .slice(0, specifier.startsWith("@") ? 2 : 1)
                    .join("/"),
            );
        }
    }
    return [...packages].sort();
}

describe("consumer project files", () => {
    it("declares every package the components load, each at the root's exact version (one copy of @pulumi/pulumi), the repository's own package by path", () => {
        const root = JSON.parse(readFileSync(join(consumerDir, "..", "..", "package.json"), "utf8")) as {
            dependencies: Record<string, string>;
        };
        const consumer = JSON.parse(readFileSync(join(consumerDir, "package.json"), "utf8")) as {
            name: string;
            dependencies: Record<string, string>;
        };
        const needed = runtimePackagesOfComponents(join(consumerDir, "..", "..", "components"));
        expect(needed).toEqual(expect.arrayContaining(["@pulumi/pulumi", "@pulumi/kubernetes", "@pulumiverse/scaleway", "acme-client"]));
        expect(needed.filter((name) => !(name in consumer.dependencies))).toEqual([]);
        for (const [name, version] of Object.entries(consumer.dependencies)) {
            // A package of this repository is not published: by path, so no public registry can answer for it.
            const expected = name.startsWith("@scw-private-lb/") ? `file:../../packages/${name.split("/")[1]}` : root.dependencies[name];
            expect({ name, version }).toEqual({ name, version: expected });
        }
        expect(consumer.name).toBe((parse(readFileSync(join(consumerDir, "Pulumi.yaml"), "utf8")) as { name: string }).name);
    });
});
