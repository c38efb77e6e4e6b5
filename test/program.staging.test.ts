import { beforeAll, describe, expect, it } from "vitest";
import { CERTIFICATE_TYPE, fakePrivateIp, fakeUuid, MockWorld, valueOf } from "./support/pulumiMocks";
import { Program, runProgram } from "./support/program";

let world: MockWorld;
let program: Program;

beforeAll(async () => {
    ({ world, program } = await runProgram("staging"));
});

describe("pulumi up -s staging", () => {
    it("declares exactly the expected resource graph: one isolated network, one app", () => {
        expect(world.resources.map((r) => `${r.type}::${r.name}`).sort()).toEqual(
            [
                "scw-private-lb:loadbalancer:PrivateLoadBalancer::private-lb",
                "tls:index/privateKey:PrivateKey::acme-account-key",
                "scw-private-lb:certificate:AcmeCertificate::test-certificate",
                "pulumi-nodejs:dynamic/scw-private-lb:AcmeLbCertificate::test-certificate-certificate",
                "scaleway:loadbalancers/loadBalancer:LoadBalancer::private-lb-lb",
                "scaleway:loadbalancers/privateNetwork:PrivateNetwork::private-lb-pn-staging",
                "scw-private-lb:endpoint:PrivateEndpoint::test",
                "scw-private-lb:kubernetes:PrivateService::test-service",
                "kubernetes:core/v1:Service::test-service-service",
                "scw-private-lb:dns:PrivateDnsRecords::test-dns",
                "cloudflare:index/dnsRecord:DnsRecord::test-dns-staging",
            ].sort(),
        );
    });

    it("names the LB for staging and attaches only the staging network given by id", async () => {
        expect(world.one("scaleway:loadbalancers/loadBalancer:LoadBalancer").inputs).toMatchObject({ name: "private-lb-staging-test", type: "LB-S", assignFlexibleIp: false });
        expect(world.one("scaleway:loadbalancers/privateNetwork:PrivateNetwork").inputs.privateNetworkId).toBe("fr-par/3b9f6e2a-1c4d-4e8f-a7b6-5d4c3b2a1f0e");
        expect(world.invokes.some((i) => i.token === "scaleway:network/getPrivateNetwork:getPrivateNetwork")).toBe(false);
        expect(await valueOf(program.privateIps)).toEqual({ staging: fakePrivateIp("fr-par/3b9f6e2a-1c4d-4e8f-a7b6-5d4c3b2a1f0e") });
    });

    it("annotates the Service and writes the staging A record with the stack's TTL", async () => {
        const service = world.one("kubernetes:core/v1:Service").inputs as { metadata: { annotations: Record<string, string> } };
        expect(service.metadata.annotations["service.beta.kubernetes.io/scw-loadbalancer-id"]).toBe(`fr-par-1/${fakeUuid("private-lb-lb")}`);
        expect(service.metadata.annotations["service.beta.kubernetes.io/scw-loadbalancer-private"]).toBe("true");
        expect(service.metadata.annotations["service.beta.kubernetes.io/scw-loadbalancer-certificate-ids"]).toBe(`443:fr-par-1/${fakeUuid("test-certificate-certificate")}`);
        expect(world.one("cloudflare:index/dnsRecord:DnsRecord").inputs).toMatchObject({
            name: "test.staging.example.com",
            content: fakePrivateIp("fr-par/3b9f6e2a-1c4d-4e8f-a7b6-5d4c3b2a1f0e"),
            proxied: false,
            ttl: 120,
        });
        expect(await valueOf(program.fqdns)).toEqual({ test: ["test.staging.example.com"] });
    });

    it("uses Let's Encrypt staging and the stack's 30-day renewal floor", () => {
        expect(world.one(CERTIFICATE_TYPE).inputs).toMatchObject({
            domains: ["test.staging.example.com"],
            acmeDirectoryUrl: "https://acme-staging-v02.api.letsencrypt.org/directory",
            renewal: { minDaysRemaining: 30 },
            binding: { mode: "annotation", frontendPort: 443 },
        });
    });
});
