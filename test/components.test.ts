import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { fakePrivateIp, installMocks, MockWorld, valueOf } from "./support/pulumiMocks";

let world: MockWorld;
let components: typeof import("../components");

beforeAll(async () => {
    world = await installMocks();
    components = await import("../components");
});

/** The error a constructor throws. */
function thrown(construct: () => unknown): Error {
    try {
        construct();
    } catch (error) {
        return error as Error;
    }
    throw new Error("expected the constructor to throw");
}

/** The URN of a child carries its parents' types: `<parent type>$<child type>::<name>`. */
async function urnOf(resource: pulumi.Resource): Promise<string> {
    return valueOf(resource.urn);
}

describe("PrivateLoadBalancer", () => {
    it("creates a private LB-S named by convention, one attachment per environment and looks up its IPs", async () => {
        const lb = new components.PrivateLoadBalancer("entrance", {
            environment: "prod",
            app: "test",
            tags: ["env=prod"],
            privateNetworks: {
                prod: { id: "fr-par/11111111-2222-4333-8444-555555555555" },
                monitoring: { name: "pn-monitoring" },
            },
        });
        const ips = await valueOf(lb.privateIps);
        const lbResource = world.one("scaleway:loadbalancers/loadBalancer:LoadBalancer", "entrance");
        expect(lbResource.inputs).toMatchObject({
            name: "private-lb-prod-test",
            type: "LB-S",
            zone: "fr-par-1",
            assignFlexibleIp: false,
            assignFlexibleIpv6: false,
            externalPrivateNetworks: true,
            tags: ["env=prod"],
        });
        expect(lbResource.inputs).not.toHaveProperty("ipId");
        expect(lbResource.inputs).not.toHaveProperty("ipIds");
        expect(lbResource.inputs).not.toHaveProperty("privateNetworks");

        const zonedId = await valueOf(lb.loadBalancerId);
        expect(zonedId).toMatch(/^fr-par-1\/[0-9a-f-]{36}$/);
        expect(await valueOf(lb.loadBalancerUuid)).toBe(zonedId.split("/")[1]);
        expect(await valueOf(lb.loadBalancerName)).toBe("private-lb-prod-test");

        const attachments = world
            .byType("scaleway:loadbalancers/privateNetwork:PrivateNetwork")
            .filter((r) => r.name.startsWith("entrance-"));
        expect(attachments.map((a) => a.name).sort()).toEqual(["entrance-monitoring", "entrance-prod"]);
        const prodAttachment = world.one("scaleway:loadbalancers/privateNetwork:PrivateNetwork", "entrance-prod");
        expect(prodAttachment.inputs).toEqual({
            lbId: zonedId,
            privateNetworkId: "fr-par/11111111-2222-4333-8444-555555555555",
            zone: "fr-par-1",
        });
        const lookedUp = world.invokes.find((i) => i.token === "scaleway:network/getPrivateNetwork:getPrivateNetwork");
        expect(lookedUp?.inputs).toEqual({ name: "pn-monitoring", region: "fr-par" });
        const monitoringPn = world.one("scaleway:loadbalancers/privateNetwork:PrivateNetwork", "entrance-monitoring").inputs
            .privateNetworkId as string;

        const ipLookups = world.invokes.filter((i) => i.token === "scaleway:ipam/getIp:getIp");
        expect(ipLookups.map((i) => i.inputs)).toContainEqual({
            resource: { type: "lb_server", id: zonedId.split("/")[1] },
            privateNetworkId: "fr-par/11111111-2222-4333-8444-555555555555",
            type: "ipv4",
            region: "fr-par",
        });
        const uuid = zonedId.split("/")[1];
        expect(ips).toEqual({
            prod: fakePrivateIp("fr-par/11111111-2222-4333-8444-555555555555", uuid),
            monitoring: fakePrivateIp(monitoringPn, uuid),
        });

        // Children named after the component, without stutter; the names of older versions are aliases.
        expect(await urnOf(lb.loadBalancer)).toContain(
            "scw-private-lb:loadbalancer:PrivateLoadBalancer$scaleway:loadbalancers/loadBalancer:LoadBalancer::entrance",
        );
        expect(world.one("scaleway:loadbalancers/loadBalancer:LoadBalancer", "entrance").aliases).toContain(
            "urn:pulumi:test::scw-private-lb::scw-private-lb:loadbalancer:PrivateLoadBalancer$scaleway:loadbalancers/loadBalancer:LoadBalancer::entrance-lb",
        );
        expect(await urnOf(lb.attachments.prod)).toContain(
            "scw-private-lb:loadbalancer:PrivateLoadBalancer$scaleway:loadbalancers/privateNetwork:PrivateNetwork::entrance-prod",
        );
    });

    it("honours zone, offer and a valid name override", async () => {
        const lb = new components.PrivateLoadBalancer("amsterdam", {
            environment: "staging",
            name: "private-lb-staging-custom",
            zone: "nl-ams-1",
            type: "LB-GP-M",
            privateNetworks: { staging: { id: "nl-ams/11111111-2222-4333-8444-555555555555" } },
        });
        await valueOf(lb.privateIps);
        expect(world.one("scaleway:loadbalancers/loadBalancer:LoadBalancer", "amsterdam").inputs).toMatchObject({
            name: "private-lb-staging-custom",
            zone: "nl-ams-1",
            type: "LB-GP-M",
        });
        expect(world.invokes.filter((i) => i.token === "scaleway:ipam/getIp:getIp").at(-1)?.inputs.region).toBe("nl-ams");
    });

    it("refuses an LB with neither an app nor a name", () => {
        const error = thrown(
            () => new components.PrivateLoadBalancer("nameless", { environment: "prod", privateNetworks: { prod: { name: "pn" } } }),
        );
        expect(error).toBeInstanceOf(pulumi.ResourceError);
        expect(error.message).toBe("PrivateLoadBalancer nameless: give `app` (the LB is then private-lb-<environment>-<app>) or `name`");
    });

    it("refuses conflicting arguments first, awsx-style, as a ResourceError naming the resource", () => {
        const error = thrown(
            () =>
                new components.PrivateLoadBalancer("both", {
                    environment: "prod",
                    app: "test",
                    name: "private-lb-prod-x",
                    privateNetworks: { staging: { name: "pn" } },
                }),
        );
        expect(error).toBeInstanceOf(pulumi.ResourceError);
        expect(error.message).toBe("Only one of `app` or `name` can be provided.");
        expect((error as pulumi.ResourceError).resource).toBeInstanceOf(components.PrivateLoadBalancer);
    });

    it("refuses a name the CCM would refuse and a missing own network, naming the resource", () => {
        const uuidName = thrown(
            () =>
                new components.PrivateLoadBalancer("bad", {
                    environment: "prod",
                    name: "0d1b714f-2767-4937-a9e5-4399cfd45338-lb",
                    privateNetworks: { prod: { name: "pn" } },
                }),
        );
        expect(uuidName).toBeInstanceOf(pulumi.ResourceError);
        expect(uuidName.message).toMatch(
            /^PrivateLoadBalancer bad: load balancer name "0d1b714f-2767-4937-a9e5-4399cfd45338-lb" starts with a UUID/,
        );
        const noOwnNetwork = thrown(
            () =>
                new components.PrivateLoadBalancer("bad2", {
                    environment: "prod",
                    app: "test",
                    privateNetworks: { staging: { name: "pn" } },
                }),
        );
        expect(noOwnNetwork).toBeInstanceOf(pulumi.ResourceError);
        expect(noOwnNetwork.message).toBe('PrivateLoadBalancer bad2: privateNetworks has no entry for its own environment "prod"');
    });
});

describe("PrivateService", () => {
    it("annotates the Service for an externally managed private LB and binds the certificate on 443", async () => {
        const svc = new components.PrivateService("admin", {
            namespace: "ops-tools",
            serviceName: "test-lb-private",
            loadBalancerId: "fr-par-1/0d1b714f-2767-4937-a9e5-4399cfd45338",
            zone: "fr-par-1",
            extraPorts: [{ name: "test", port: 81, targetPort: 81 }],
            selector: { app: "test" },
            labels: { team: "ops" },
            certificateId: pulumi.output("fr-par-1/aba65e0d-7391-4685-b8c3-f86b88c2ade5"),
            ccm: { timeoutClient: "10m", proxyProtocolV2: "443" },
        });
        await valueOf(svc.service.urn);
        const service = world.one("kubernetes:core/v1:Service", "admin");
        expect(service.inputs).toEqual({
            apiVersion: "v1",
            kind: "Service",
            metadata: {
                name: "test-lb-private",
                namespace: "ops-tools",
                labels: { team: "ops" },
                annotations: {
                    "service.beta.kubernetes.io/scw-loadbalancer-externally-managed": "true",
                    "service.beta.kubernetes.io/scw-loadbalancer-id": "fr-par-1/0d1b714f-2767-4937-a9e5-4399cfd45338",
                    "service.beta.kubernetes.io/scw-loadbalancer-zone": "fr-par-1",
                    "service.beta.kubernetes.io/scw-loadbalancer-private": "true",
                    "service.beta.kubernetes.io/scw-loadbalancer-certificate-ids": "443:fr-par-1/aba65e0d-7391-4685-b8c3-f86b88c2ade5",
                    "service.beta.kubernetes.io/scw-loadbalancer-timeout-client": "10m",
                    "service.beta.kubernetes.io/scw-loadbalancer-proxy-protocol-v2": "443",
                },
            },
            spec: {
                type: "LoadBalancer",
                selector: { app: "test" },
                ports: [
                    { name: "https", port: 443, targetPort: 80, protocol: "TCP" },
                    { name: "test", port: 81, targetPort: 81, protocol: "TCP" },
                ],
            },
        });
        expect(await urnOf(svc.service)).toContain("scw-private-lb:kubernetes:PrivateService$kubernetes:core/v1:Service::admin");
        expect(service.aliases).toEqual([
            "urn:pulumi:test::scw-private-lb::scw-private-lb:kubernetes:PrivateService$kubernetes:core/v1:Service::admin-service",
        ]);
    });

    it("leaves the certificate annotation out until a certificate id exists", async () => {
        const svc = new components.PrivateService("nocert", {
            namespace: "ops",
            serviceName: "nocert",
            loadBalancerId: "fr-par-1/0d1b714f-2767-4937-a9e5-4399cfd45338",
            zone: "fr-par-1",
            selector: { app: "x" },
        });
        const annotations = await valueOf(svc.annotations);
        expect(Object.keys(annotations)).not.toContain("service.beta.kubernetes.io/scw-loadbalancer-certificate-ids");
        expect(annotations["service.beta.kubernetes.io/scw-loadbalancer-private"]).toBe("true");
    });

    it("refuses UDP ports, port 80 for TLS and bad CCM settings before creating anything, as ResourceErrors", () => {
        const base = {
            namespace: "ops",
            serviceName: "s",
            loadBalancerId: "fr-par-1/0d1b714f-2767-4937-a9e5-4399cfd45338",
            zone: "fr-par-1",
            selector: { app: "x" },
        };
        const udp = thrown(
            () => new components.PrivateService("udp", { ...base, extraPorts: [{ name: "dns", port: 53, protocol: "UDP" }] }),
        );
        expect(udp).toBeInstanceOf(pulumi.ResourceError);
        expect(udp.message).toBe("PrivateService udp: port dns uses UDP: the Scaleway CCM supports TCP only");
        expect(() => new components.PrivateService("p80", { ...base, httpsPort: 80 })).toThrow(
            /^PrivateService p80: httpsPort: a certificate mapping on port 80 is refused/,
        );
        expect(() => new components.PrivateService("hc", { ...base, ccm: { healthCheckDelay: "5 seconds" } })).toThrow(
            /healthCheckDelay: "5 seconds" must be a Go duration/,
        );
    });

    it("takes the Kubernetes provider from the resource options", async () => {
        const provider = new k8s.Provider("cluster", { kubeconfig: "/etc/kubernetes/admin.conf" });
        const svc = new components.PrivateService(
            "through-options",
            {
                namespace: "ops",
                serviceName: "s",
                loadBalancerId: "fr-par-1/0d1b714f-2767-4937-a9e5-4399cfd45338",
                zone: "fr-par-1",
                selector: { app: "x" },
            },
            { providers: [provider] },
        );
        await valueOf(svc.service.urn);
        expect(world.one("kubernetes:core/v1:Service", "through-options").provider).toBe(`${await valueOf(provider.urn)}::cluster-id`);
    });
});

describe("PrivateDnsRecords", () => {
    it("creates one non-proxied A record per environment domain pointing at the IP in that network", async () => {
        const dns = new components.PrivateDnsRecords("test-dns", {
            hostname: "test",
            environments: {
                prod: { domain: "prod.example.com", zone: { name: "example.com" } },
                monitoring: { domain: "monitoring.example.net", zone: { id: "0123456789abcdef0123456789abcdef" } },
            },
            privateIps: { prod: "172.16.0.10", monitoring: "172.16.8.10" },
            ttl: 120,
        });
        await Promise.all(Object.values(dns.records).map((record) => valueOf(record.urn)));
        const prod = world.one("cloudflare:index/dnsRecord:DnsRecord", "test-dns-prod");
        // Named as before under an unchanged parent: no alias of ours (the provider's own type alias stays).
        expect(prod.aliases.filter((alias) => alias.startsWith("urn:"))).toEqual([]);
        expect(prod.inputs).toMatchObject({ name: "test.prod.example.com", type: "A", content: "172.16.0.10", proxied: false, ttl: 120 });
        expect(prod.inputs.zoneId).toMatch(/^[0-9a-f]{32}$/);
        const monitoring = world.one("cloudflare:index/dnsRecord:DnsRecord", "test-dns-monitoring");
        expect(monitoring.inputs).toMatchObject({
            name: "test.monitoring.example.net",
            content: "172.16.8.10",
            zoneId: "0123456789abcdef0123456789abcdef",
            proxied: false,
        });
        expect(dns.fqdns).toEqual({ prod: "test.prod.example.com", monitoring: "test.monitoring.example.net" });
        expect(await urnOf(dns.records.prod)).toContain(
            "scw-private-lb:dns:PrivateDnsRecords$cloudflare:index/dnsRecord:DnsRecord::test-dns-prod",
        );
    });

    it("refuses a TTL below Cloudflare's minimum, as a ResourceError", () => {
        const error = thrown(() => new components.PrivateDnsRecords("ttl", { hostname: "a", environments: {}, privateIps: {}, ttl: 30 }));
        expect(error).toBeInstanceOf(pulumi.ResourceError);
        expect(error.message).toBe("PrivateDnsRecords ttl: ttl 30 is invalid: use a whole number of seconds, at least 60");
    });
});

describe("PrivateEndpoint", () => {
    const environments = {
        prod: { domain: "prod.example.com", zone: { name: "example.com" } },
        staging: { domain: "staging.example.com", zone: { name: "example.com" } },
    };

    it("shares an existing LB and feeds the certificate id into the Service annotation", async () => {
        const endpoint = new components.PrivateEndpoint("shared", {
            loadBalancer: {
                loadBalancerId: "fr-par-1/0d1b714f-2767-4937-a9e5-4399cfd45338",
                zone: "fr-par-1",
                privateIps: { prod: "172.16.0.4", staging: "172.16.4.4" },
            },
            app: { hostname: "grafana", namespace: "monitoring", httpsPort: 8443, targetPort: 3000 },
            environments,
            certificateId: pulumi.output("fr-par-1/aba65e0d-7391-4685-b8c3-f86b88c2ade5"),
        });
        expect(await valueOf(endpoint.fqdns)).toEqual(["grafana.prod.example.com", "grafana.staging.example.com"]);
        expect(await valueOf(endpoint.loadBalancerId)).toBe("fr-par-1/0d1b714f-2767-4937-a9e5-4399cfd45338");
        expect(endpoint.loadBalancer).toBeUndefined();
        await valueOf(endpoint.service.service.urn);
        const service = world.one("kubernetes:core/v1:Service", "shared");
        const metadata = service.inputs.metadata as { name: string; annotations: Record<string, string> };
        expect(metadata.name).toBe("grafana-lb-private");
        expect(metadata.annotations["service.beta.kubernetes.io/scw-loadbalancer-certificate-ids"]).toBe(
            "8443:fr-par-1/aba65e0d-7391-4685-b8c3-f86b88c2ade5",
        );
        expect((service.inputs.spec as { selector: Record<string, string> }).selector).toEqual({ app: "grafana" });
        await Promise.all(Object.values(endpoint.dnsRecords.records).map((r) => valueOf(r.urn)));
        expect(world.one("cloudflare:index/dnsRecord:DnsRecord", "shared-staging").inputs).toMatchObject({
            name: "grafana.staging.example.com",
            content: "172.16.4.4",
        });
        expect(await urnOf(endpoint.service)).toContain(
            "scw-private-lb:endpoint:PrivateEndpoint$scw-private-lb:kubernetes:PrivateService::shared",
        );
        // The names of older versions (`shared-service`, `shared-service-service`, `shared-dns-staging`) are aliases.
        const prefix = "urn:pulumi:test::scw-private-lb::scw-private-lb:endpoint:PrivateEndpoint$";
        expect(world.one("scw-private-lb:kubernetes:PrivateService", "shared").aliases).toEqual([
            `${prefix}scw-private-lb:kubernetes:PrivateService::shared-service`,
        ]);
        expect(service.aliases).toEqual([
            `${prefix}scw-private-lb:kubernetes:PrivateService$kubernetes:core/v1:Service::shared-service`,
            `${prefix}scw-private-lb:kubernetes:PrivateService$kubernetes:core/v1:Service::shared-service-service`,
        ]);
        expect(world.one("cloudflare:index/dnsRecord:DnsRecord", "shared-staging").aliases).toContain(
            `${prefix}scw-private-lb:dns:PrivateDnsRecords$cloudflare:index/dnsRecord:DnsRecord::shared-dns-staging`,
        );
    });

    it("refuses an LB to share and the arguments of its own together, awsx-style", () => {
        const error = thrown(
            () =>
                new components.PrivateEndpoint("both", {
                    loadBalancer: { loadBalancerId: "fr-par-1/0d1b714f-2767-4937-a9e5-4399cfd45338", zone: "fr-par-1", privateIps: {} },
                    loadBalancerArgs: { environment: "prod", app: "both", privateNetworks: { prod: { name: "pn" } } },
                    app: { hostname: "both", namespace: "ops" },
                    environments: {},
                }),
        );
        expect(error).toBeInstanceOf(pulumi.ResourceError);
        expect(error.message).toBe("Only one of `loadBalancer` or `loadBalancerArgs` can be provided.");
    });

    it("refuses an endpoint with no LB at all", () => {
        const error = thrown(
            () => new components.PrivateEndpoint("nowhere", { app: { hostname: "nowhere", namespace: "ops" }, environments: {} }),
        );
        expect(error).toBeInstanceOf(pulumi.ResourceError);
        expect(error.message).toBe(
            "PrivateEndpoint nowhere: give `loadBalancer` (an LB to share) or `loadBalancerArgs` (an LB of its own)",
        );
    });

    it("creates its own LB when given LB arguments", async () => {
        const endpoint = new components.PrivateEndpoint("solo", {
            loadBalancerArgs: {
                environment: "prod",
                app: "solo",
                privateNetworks: { prod: { id: "fr-par/11111111-2222-4333-8444-555555555555" } },
            },
            app: { hostname: "solo", namespace: "ops" },
            environments: { prod: environments.prod },
        });
        expect(endpoint.loadBalancer).toBeDefined();
        const id = await valueOf(endpoint.loadBalancerId);
        const lb = world.one("scaleway:loadbalancers/loadBalancer:LoadBalancer", "solo");
        expect(lb.inputs.name).toBe("private-lb-prod-solo");
        await valueOf(endpoint.dnsRecords.records.prod.urn);
        expect(world.one("cloudflare:index/dnsRecord:DnsRecord", "solo-prod").inputs.content).toBe(
            fakePrivateIp("fr-par/11111111-2222-4333-8444-555555555555", id.split("/")[1]),
        );
        expect(id).toMatch(/^fr-par-1\//);
        expect(await urnOf(endpoint.loadBalancer as pulumi.Resource)).toContain(
            "scw-private-lb:endpoint:PrivateEndpoint$scw-private-lb:loadbalancer:PrivateLoadBalancer::solo",
        );
        // Older versions: PrivateLoadBalancer `solo-lb` with the LB `solo-lb-lb` under it.
        expect(lb.urn).toBe(
            "urn:pulumi:test::scw-private-lb::scw-private-lb:endpoint:PrivateEndpoint$scw-private-lb:loadbalancer:PrivateLoadBalancer$scaleway:loadbalancers/loadBalancer:LoadBalancer::solo",
        );
        expect(lb.aliases).toContain(
            "urn:pulumi:test::scw-private-lb::scw-private-lb:endpoint:PrivateEndpoint$scw-private-lb:loadbalancer:PrivateLoadBalancer$scaleway:loadbalancers/loadBalancer:LoadBalancer::solo-lb-lb",
        );
    });

    it("computes the certificate names without creating anything", () => {
        expect(
            components.endpointFqdns("test", { prod: { domain: "prod.example.com" }, monitoring: { domain: "Monitoring.Example.com" } }),
        ).toEqual(["test.prod.example.com", "test.monitoring.example.com"]);
    });
});
