import { beforeAll, describe, expect, it } from "vitest";
import { CERTIFICATE_TYPE, fakePrivateIp, fakeUuid, MockWorld, valueOf } from "./support/pulumiMocks";
import { Program, runProgram } from "./support/program";

let world: MockWorld;
let program: Program;

beforeAll(async () => {
    ({ world, program } = await runProgram("prod"));
});

describe("pulumi up -s prod", () => {
    it("declares exactly the expected resource graph", async () => {
        await valueOf(program.fqdns);
        const graph = world.resources.map((r) => `${r.type}::${r.name}`).sort();
        expect(graph).toEqual(
            [
                "scw-private-lb:loadbalancer:PrivateLoadBalancer::private-lb",
                "tls:index/privateKey:PrivateKey::acme-account-key",
                "scw-private-lb:certificate:AcmeCertificate::test-certificate",
                "pulumi-nodejs:dynamic/scw-private-lb:AcmeLbCertificate::test-certificate-certificate",
                "scw-private-lb:certificate:AcmeCertificate::backoffice-certificate",
                "pulumi-nodejs:dynamic/scw-private-lb:AcmeLbCertificate::backoffice-certificate-certificate",
                "scaleway:loadbalancers/loadBalancer:LoadBalancer::private-lb-lb",
                "scaleway:loadbalancers/privateNetwork:PrivateNetwork::private-lb-pn-prod",
                "scaleway:loadbalancers/privateNetwork:PrivateNetwork::private-lb-pn-monitoring",
                "scw-private-lb:endpoint:PrivateEndpoint::test",
                "scw-private-lb:kubernetes:PrivateService::test-service",
                "kubernetes:core/v1:Service::test-service-service",
                "scw-private-lb:dns:PrivateDnsRecords::test-dns",
                "cloudflare:index/dnsRecord:DnsRecord::test-dns-prod",
                "cloudflare:index/dnsRecord:DnsRecord::test-dns-monitoring",
                "scw-private-lb:endpoint:PrivateEndpoint::backoffice",
                "scw-private-lb:kubernetes:PrivateService::backoffice-service",
                "kubernetes:core/v1:Service::backoffice-service-service",
                "scw-private-lb:dns:PrivateDnsRecords::backoffice-dns",
                "cloudflare:index/dnsRecord:DnsRecord::backoffice-dns-prod",
                "cloudflare:index/dnsRecord:DnsRecord::backoffice-dns-monitoring",
            ].sort(),
        );
    });

    it("creates the private LB-S with the conventional name and attaches prod and monitoring", async () => {
        expect(world.one("scaleway:loadbalancers/loadBalancer:LoadBalancer").inputs).toMatchObject({
            name: "private-lb-prod-test",
            type: "LB-S",
            zone: "fr-par-1",
            assignFlexibleIp: false,
            assignFlexibleIpv6: false,
            externalPrivateNetworks: true,
            tags: ["managed-by=pulumi", "env=prod", "purpose=private-admin"],
        });
        const lbId = `fr-par-1/${fakeUuid("private-lb-lb")}`;
        expect(world.one("scaleway:loadbalancers/privateNetwork:PrivateNetwork", "private-lb-pn-monitoring").inputs).toEqual({
            lbId,
            privateNetworkId: "fr-par/7c1e2d3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f",
            zone: "fr-par-1",
        });
        // prod's network is given by name: looked up, then attached.
        const prodPn = `fr-par/${fakeUuid("pn-pn-prod")}`;
        expect(world.one("scaleway:loadbalancers/privateNetwork:PrivateNetwork", "private-lb-pn-prod").inputs.privateNetworkId).toBe(prodPn);
        expect(await valueOf(program.loadBalancerId)).toBe(lbId);
        expect(await valueOf(program.loadBalancerName)).toBe("private-lb-prod-test");
        expect(await valueOf(program.privateIps)).toEqual({ prod: fakePrivateIp(prodPn), monitoring: fakePrivateIp("fr-par/7c1e2d3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f") });
    });

    it("gives each app its own Service on its own LB port with the CCM annotations", () => {
        const test = world.one("kubernetes:core/v1:Service", "test-service-service").inputs as { metadata: { name: string; namespace: string; annotations: Record<string, string> }; spec: { ports: unknown[]; selector: unknown } };
        expect(test.metadata.name).toBe("test-lb-private");
        expect(test.metadata.namespace).toBe("ops-tools");
        expect(test.metadata.annotations).toEqual({
            "service.beta.kubernetes.io/scw-loadbalancer-certificate-ids": `443:fr-par-1/${fakeUuid("test-certificate-certificate")}`,
            "service.beta.kubernetes.io/scw-loadbalancer-externally-managed": "true",
            "service.beta.kubernetes.io/scw-loadbalancer-id": `fr-par-1/${fakeUuid("private-lb-lb")}`,
            "service.beta.kubernetes.io/scw-loadbalancer-zone": "fr-par-1",
            "service.beta.kubernetes.io/scw-loadbalancer-private": "true",
            "service.beta.kubernetes.io/scw-loadbalancer-health-check-type": "443:http;81:tcp",
            "service.beta.kubernetes.io/scw-loadbalancer-health-check-http-uri": "443:/healthz",
            "service.beta.kubernetes.io/scw-loadbalancer-health-check-http-method": "443:GET",
            "service.beta.kubernetes.io/scw-loadbalancer-health-check-http-code": "443:200",
            "service.beta.kubernetes.io/scw-loadbalancer-timeout-client": "10m",
        });
        expect(test.spec.selector).toEqual({ "app.kubernetes.io/name": "test-lb-private" });
        expect(test.spec.ports).toEqual([
            { name: "https", port: 443, targetPort: 80, protocol: "TCP" },
            { name: "test", port: 81, targetPort: 81, protocol: "TCP" },
        ]);
        const backoffice = world.one("kubernetes:core/v1:Service", "backoffice-service-service").inputs as { metadata: { name: string; namespace: string }; spec: { ports: unknown[] } };
        expect(backoffice.metadata).toMatchObject({ name: "backoffice-lb-private", namespace: "backoffice" });
        expect(backoffice.spec.ports).toEqual([{ name: "https", port: 8443, targetPort: 8080, protocol: "TCP" }]);
    });

    it("points one non-proxied A record per environment domain at the LB's IP in that network", async () => {
        const ips = await valueOf(program.privateIps);
        for (const app of ["test", "backoffice"]) {
            for (const env of ["prod", "monitoring"]) {
                expect(world.one("cloudflare:index/dnsRecord:DnsRecord", `${app}-dns-${env}`).inputs).toMatchObject({
                    name: `${app}.${env}.example.com`,
                    type: "A",
                    content: ips[env],
                    proxied: false,
                    ttl: 300,
                });
            }
        }
        expect(world.invokes.filter((i) => i.token === "cloudflare:index/getZone:getZone").every((i) => i.inputs.filter.name === "example.com")).toBe(true);
    });

    it("issues one certificate per app for all its names and binds it through the Service annotation", () => {
        const lbId = `fr-par-1/${fakeUuid("private-lb-lb")}`;
        const test = world.one(CERTIFICATE_TYPE, "test-certificate-certificate").inputs;
        expect(test).toMatchObject({
            domains: ["test.prod.example.com", "test.monitoring.example.com"],
            loadBalancerId: lbId,
            zone: "fr-par-1",
            acmeDirectoryUrl: "https://acme-v02.api.letsencrypt.org/directory",
            email: "platform-team@example.com",
            keyType: "ecdsa-p256",
            binding: { mode: "annotation", frontendPort: 443 },
            cloudflareZones: ["example.com"],
        });
        const backoffice = world.one(CERTIFICATE_TYPE, "backoffice-certificate-certificate").inputs;
        expect(backoffice).toMatchObject({ domains: ["backoffice.prod.example.com", "backoffice.monitoring.example.com"], binding: { mode: "annotation", frontendPort: 8443 } });
        // One ACME account for the stack, passed as a secret.
        expect(world.byType("tls:index/privateKey:PrivateKey")).toHaveLength(1);
        expect(world.one("tls:index/privateKey:PrivateKey").inputs).toMatchObject({ algorithm: "ECDSA", ecdsaCurve: "P256" });
        expect(JSON.stringify(test.accountKeyPem)).toContain("1b47061264138c4ac30d75fd1eb44270");

        const annotationOf = (service: string) =>
            (world.one("kubernetes:core/v1:Service", service).inputs.metadata as { annotations: Record<string, string> }).annotations["service.beta.kubernetes.io/scw-loadbalancer-certificate-ids"];
        expect(annotationOf("test-service-service")).toBe(`443:fr-par-1/${fakeUuid("test-certificate-certificate")}`);
        expect(annotationOf("backoffice-service-service")).toBe(`8443:fr-par-1/${fakeUuid("backoffice-certificate-certificate")}`);
    });

    it("exports what stack references read", async () => {
        expect(program.environment).toBe("prod");
        expect(await valueOf(program.zone)).toBe("fr-par-1");
        expect(await valueOf(program.loadBalancerUuid)).toBe(fakeUuid("private-lb-lb"));
        expect(await valueOf(program.fqdns)).toEqual({
            test: ["test.prod.example.com", "test.monitoring.example.com"],
            backoffice: ["backoffice.prod.example.com", "backoffice.monitoring.example.com"],
        });
        expect(program.httpsPorts).toEqual({ test: 443, backoffice: 8443 });
        expect(program.lbPorts).toEqual({ test: [443, 81], backoffice: [8443] });
        expect(await valueOf(program.certificateIds)).toEqual({
            test: `fr-par-1/${fakeUuid("test-certificate-certificate")}`,
            backoffice: `fr-par-1/${fakeUuid("backoffice-certificate-certificate")}`,
        });
        expect(await valueOf(program.certificateRenewalDueAt)).toEqual({ test: "2027-01-21T00:00:00.000Z", backoffice: "2027-01-21T00:00:00.000Z" });
    });
});
