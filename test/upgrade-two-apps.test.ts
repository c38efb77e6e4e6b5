/**
 * A stack deployed before apps had their own LBs upgrades without replacing anything: every URN its
 * state holds (captured on the code of that time, test/fixtures/legacyUrns.ts) is, after the upgrade,
 * the URN or an alias of exactly one resource of the same type, and no resource is new. The engine moves
 * a resource whose alias matches an URN in state instead of creating and deleting one.
 */
import { describe, expect, it } from "vitest";
import { LEGACY_TWO_APPS_URNS } from "./fixtures/legacyUrns";
import { claimedTwice, typeOf, upgrade } from "./support/upgrade";

describe("upgrading a two-app stack of the one-LB layout", () => {
    it("keeps every resource of a two-app stack whose second app stays on the LB (shareLoadBalancerWith)", async () => {
        const { world, claimedBy, created } = await upgrade("two-apps", LEGACY_TWO_APPS_URNS);
        expect(created).toEqual([]);
        // Each old URN is claimed by exactly one resource, of the same type: a move, never a replacement.
        for (const [old, claimants] of Object.entries(claimedBy)) {
            expect({ old, claimants: claimants.length }).toEqual({ old, claimants: 1 });
            expect({ old, type: typeOf(claimants[0]) }).toEqual({ old, type: typeOf(old) });
        }
        expect(claimedTwice(world)).toEqual([]);
        expect(world.resources).toHaveLength(LEGACY_TWO_APPS_URNS.length);
        // What decides a replacement keeps its value: the LB's name, the networks, the Services' names, the records' names.
        expect(world.one("scaleway:loadbalancers/loadBalancer:LoadBalancer").inputs).toMatchObject({
            name: "private-lb-prod-test",
            type: "LB-S",
            zone: "fr-par-1",
        });
        expect(
            world
                .byType("kubernetes:core/v1:Service")
                .map((service) => (service.inputs.metadata as { name: string }).name)
                .sort(),
        ).toEqual(["backoffice-lb-private", "test-lb-private"]);
        expect(
            claimedBy[
                "scw-private-lb:endpoint:PrivateEndpoint$scw-private-lb:dns:PrivateDnsRecords$cloudflare:index/dnsRecord:DnsRecord::backoffice-dns-monitoring"
            ],
        ).toEqual([
            "scw-private-lb:endpoint:PrivateEndpoint$scw-private-lb:dns:PrivateDnsRecords$cloudflare:index/dnsRecord:DnsRecord::backoffice-monitoring",
        ]);
        expect(
            claimedBy[
                "scw-private-lb:loadbalancer:PrivateLoadBalancer$scaleway:loadbalancers/privateNetwork:PrivateNetwork::private-lb-pn-monitoring"
            ],
        ).toEqual([
            "scw-private-lb:loadbalancer:PrivateLoadBalancer$scaleway:loadbalancers/privateNetwork:PrivateNetwork::test-monitoring",
        ]);
    });
});
