/**
 * The consumer program under Pulumi mocks, with its `prod` stack file and a StackReference mock that
 * answers with the entrance stack's outputs: the shared LB is referenced, never created, and every
 * resource it declares passes the policy pack.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import type { MockCallArgs, MockResourceArgs } from "@pulumi/pulumi/runtime";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { checkInputs } from "../../../components/certificate/validation";
import { ENTRANCE_POLICIES, RESOURCE_TYPES } from "../../../policy/policies";
import { pulumiConfigOf } from "../../../scripts/stackConfig";
import { allRegistered, valueOf } from "../../../test/support/pulumiMocks";
import { ENTRANCE_OUTPUTS, ENTRANCE_STACK } from "./entrance";

const consumerDir = join(__dirname, "..");
const CERTIFICATE_ID = "fr-par-1/6c0e6d5e-8d0b-4bb4-9f59-0d5f3a0c9a11";
const ANNOTATION = "service.beta.kubernetes.io/scw-loadbalancer-";

const created: MockResourceArgs[] = [];
const invoked: MockCallArgs[] = [];
let program: typeof import("../index");

function only(type: string): MockResourceArgs[] {
    return created.filter((resource) => resource.type === type);
}

beforeAll(async () => {
    pulumi.runtime.setAllConfig(pulumiConfigOf("prod", consumerDir));
    await pulumi.runtime.setMocks(
        {
            newResource(args) {
                created.push(args);
                switch (args.type) {
                    case "pulumi:pulumi:StackReference":
                        // A stack reference is read by id (the stack's name); its state holds the outputs.
                        return { id: args.inputs.name, state: { name: args.inputs.name, outputs: ENTRANCE_OUTPUTS, secretOutputNames: [] } };
                    case RESOURCE_TYPES.certificate:
                        return { id: CERTIFICATE_ID, state: { ...args.inputs, certificateId: CERTIFICATE_ID, renewalDueAt: "2026-06-30T00:00:00.000Z" } };
                    default:
                        return { id: `${args.name}-id`, state: args.inputs };
                }
            },
            call(args) {
                invoked.push(args);
                if (args.token === "cloudflare:index/getZone:getZone") {
                    return { id: "023e105f4ecef8ad9ca31a8372d0c353", zoneId: "023e105f4ecef8ad9ca31a8372d0c353", name: args.inputs.filter.name };
                }
                throw new Error(`unexpected invoke ${args.token}`);
            },
        },
        "scw-private-lb-consumer",
        "prod",
        false,
    );
    program = await import("../index");
    await allRegistered();
});

describe("consumer of the entrance stack", () => {
    it("references the entrance stack named in config and creates no LB of its own", () => {
        expect(only("pulumi:pulumi:StackReference").map((ref) => ref.inputs.name)).toEqual([ENTRANCE_STACK]);
        expect(created.filter((resource) => resource.type.startsWith("scaleway:"))).toEqual([]);
    });

    it("annotates its Service with the referenced LB id and zone, and binds its own certificate on its own port", () => {
        const [service] = only("kubernetes:core/v1:Service");
        expect(service.inputs.metadata).toMatchObject({
            name: "grafana-lb-private",
            namespace: "monitoring",
            annotations: {
                [`${ANNOTATION}externally-managed`]: "true",
                [`${ANNOTATION}id`]: ENTRANCE_OUTPUTS.loadBalancerId,
                [`${ANNOTATION}zone`]: ENTRANCE_OUTPUTS.zone,
                [`${ANNOTATION}private`]: "true",
                [`${ANNOTATION}certificate-ids`]: `9443:${CERTIFICATE_ID}`,
            },
        });
        expect(service.inputs.spec.ports).toEqual([{ name: "https", port: 9443, targetPort: 3000, protocol: "TCP" }]);
    });

    it("points one unproxied A record per environment at the referenced private IPs", () => {
        const records = only("cloudflare:index/dnsRecord:DnsRecord").map((record) => record.inputs);
        expect(records.map(({ name, content, proxied, type }) => ({ name, content, proxied, type }))).toEqual([
            { name: "grafana.prod.example.com", content: ENTRANCE_OUTPUTS.privateIps.prod, proxied: false, type: "A" },
            { name: "grafana.monitoring.example.com", content: ENTRANCE_OUTPUTS.privateIps.monitoring, proxied: false, type: "A" },
        ]);
        expect(invoked.map((call) => call.inputs.filter.name)).toEqual(["example.com", "example.com"]);
    });

    it("orders a certificate for its names on the referenced LB", () => {
        const [certificate] = only(RESOURCE_TYPES.certificate);
        expect(certificate.inputs).toMatchObject({
            domains: ["grafana.prod.example.com", "grafana.monitoring.example.com"],
            loadBalancerId: ENTRANCE_OUTPUTS.loadBalancerId,
            zone: ENTRANCE_OUTPUTS.zone,
            email: "platform-team@example.com",
            acmeDirectoryUrl: "https://acme-v02.api.letsencrypt.org/directory",
            cloudflareZones: ["example.com"],
        });
    });

    it("exports what it built from the referenced outputs", async () => {
        expect(await valueOf(program.loadBalancerId)).toBe(ENTRANCE_OUTPUTS.loadBalancerId);
        expect(program.httpsPort).toBe(9443);
        expect(await valueOf(program.appFqdns)).toEqual(["grafana.prod.example.com", "grafana.monitoring.example.com"]);
        expect(await valueOf(program.certificateId)).toBe(CERTIFICATE_ID);
    });

    it("passes every rule of the policy pack (certificate inputs as the provider's check leaves them)", () => {
        const violations = created.flatMap((resource) => {
            // The engine hands policies the inputs after the provider's `check`.
            const props = resource.type === RESOURCE_TYPES.certificate ? checkInputs(resource.inputs).inputs : resource.inputs;
            return ENTRANCE_POLICIES.flatMap((policy) => policy.validate(resource.type, props, {}).map((message) => `${policy.name} on ${resource.name}: ${message}`));
        });
        expect(created.map((resource) => resource.type)).toEqual(
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
        const specifiers = [...source.matchAll(/^import (?!type )[^;]*?from "([^"]+)"/gm), ...source.matchAll(/require\("([^"]+)"\)/g)].map((match) => match[1]);
        for (const specifier of specifiers.filter((name) => !name.startsWith(".") && !name.startsWith("node:"))) {
            packages.add(specifier.split("/").slice(0, specifier.startsWith("@") ? 2 : 1).join("/"));
        }
    }
    return [...packages].sort();
}

describe("consumer project files", () => {
    it("declares every package the components load, each at the root's exact version (one copy of @pulumi/pulumi)", () => {
        const root = JSON.parse(readFileSync(join(consumerDir, "..", "..", "package.json"), "utf8")) as { dependencies: Record<string, string> };
        const consumer = JSON.parse(readFileSync(join(consumerDir, "package.json"), "utf8")) as { name: string; dependencies: Record<string, string> };
        const needed = runtimePackagesOfComponents(join(consumerDir, "..", "..", "components"));
        expect(needed).toEqual(expect.arrayContaining(["@pulumi/pulumi", "@pulumi/kubernetes", "@pulumiverse/scaleway", "acme-client"]));
        expect(needed.filter((name) => !(name in consumer.dependencies))).toEqual([]);
        for (const [name, version] of Object.entries(consumer.dependencies)) {
            expect({ name, version }).toEqual({ name, version: root.dependencies[name] });
        }
        expect(consumer.name).toBe(parse(readFileSync(join(consumerDir, "Pulumi.yaml"), "utf8")).name);
    });
});
