/**
 * A stack deployed before apps had their own LBs upgrades without replacing anything: every URN its
 * state holds (captured on the code of that time, test/fixtures/legacyUrns.ts) is, after the upgrade,
 * the URN or an alias of exactly one resource of the same type, and no resource is new. The engine moves
 * a resource whose alias matches an URN in state instead of creating and deleting one.
 */
import { describe, expect, it } from "vitest";
import { LEGACY_ONE_APP_URNS } from "./fixtures/legacyUrns";
import { upgrade } from "./support/upgrade";

describe("upgrading a one-app stack of the one-LB layout", () => {
    it("keeps every resource of a one-app stack: LB, attachment, Service, record, certificate", async () => {
        const { claimedBy, created } = await upgrade("one-app", LEGACY_ONE_APP_URNS);
        expect(created).toEqual([]);
        expect(claimedBy).toEqual({
            "scw-private-lb:loadbalancer:PrivateLoadBalancer::private-lb": ["scw-private-lb:loadbalancer:PrivateLoadBalancer::test"],
            "scw-private-lb:loadbalancer:PrivateLoadBalancer$scaleway:loadbalancers/loadBalancer:LoadBalancer::private-lb-lb": [
                "scw-private-lb:loadbalancer:PrivateLoadBalancer$scaleway:loadbalancers/loadBalancer:LoadBalancer::test",
            ],
            "scw-private-lb:loadbalancer:PrivateLoadBalancer$scaleway:loadbalancers/privateNetwork:PrivateNetwork::private-lb-pn-staging": [
                "scw-private-lb:loadbalancer:PrivateLoadBalancer$scaleway:loadbalancers/privateNetwork:PrivateNetwork::test-staging",
            ],
            "scw-private-lb:certificate:AcmeCertificate::test-certificate": ["scw-private-lb:certificate:AcmeCertificate::test"],
            "scw-private-lb:certificate:AcmeCertificate$pulumi-nodejs:dynamic/scw-private-lb:AcmeLbCertificate::test-certificate-certificate":
                ["scw-private-lb:certificate:AcmeCertificate$pulumi-nodejs:dynamic/scw-private-lb:AcmeLbCertificate::test-certificate"],
            "scw-private-lb:endpoint:PrivateEndpoint::test": ["scw-private-lb:endpoint:PrivateEndpoint::test"],
            "scw-private-lb:endpoint:PrivateEndpoint$scw-private-lb:kubernetes:PrivateService::test-service": [
                "scw-private-lb:endpoint:PrivateEndpoint$scw-private-lb:kubernetes:PrivateService::test",
            ],
            "scw-private-lb:endpoint:PrivateEndpoint$scw-private-lb:kubernetes:PrivateService$kubernetes:core/v1:Service::test-service-service":
                ["scw-private-lb:endpoint:PrivateEndpoint$scw-private-lb:kubernetes:PrivateService$kubernetes:core/v1:Service::test"],
            "scw-private-lb:endpoint:PrivateEndpoint$scw-private-lb:dns:PrivateDnsRecords::test-dns": [
                "scw-private-lb:endpoint:PrivateEndpoint$scw-private-lb:dns:PrivateDnsRecords::test",
            ],
            "scw-private-lb:endpoint:PrivateEndpoint$scw-private-lb:dns:PrivateDnsRecords$cloudflare:index/dnsRecord:DnsRecord::test-dns-staging":
                [
                    "scw-private-lb:endpoint:PrivateEndpoint$scw-private-lb:dns:PrivateDnsRecords$cloudflare:index/dnsRecord:DnsRecord::test-staging",
                ],
            "tls:index/privateKey:PrivateKey::acme-account-key": ["tls:index/privateKey:PrivateKey::acme-account-key"],
        });
    });
});
