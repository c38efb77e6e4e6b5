import { describe, expect, it } from "vitest";
import { appFqdn, isWithinZone, loadBalancerName, parseZonedId, regionOfZone, validateLoadBalancerName } from "../components/naming";

describe("loadBalancerName", () => {
    it("follows the manual procedure's convention private-lb-<env>-<app host label>", () => {
        expect(loadBalancerName("prod", "test")).toBe("private-lb-prod-test");
        expect(loadBalancerName("staging", "back-office")).toBe("private-lb-staging-back-office");
    });

    it.each([
        ["Private-LB-Prod", /lowercase letters, digits and hyphens/],
        ["private_lb_prod", /lowercase letters, digits and hyphens/],
        ["private-lb-prod-", /starting and ending with a letter or digit/],
        [
            "0d1b714f-2767-4937-a9e5-4399cfd45338-private",
            /starts with a UUID: the Scaleway CCM refuses LBs whose name starts with a cluster id/,
        ],
        [`private-lb-prod-${"x".repeat(60)}`, /is 76 characters long: at most 63 are allowed/],
    ])("refuses %s", (name, message) => {
        expect(() => validateLoadBalancerName(name)).toThrow(message);
    });
});

describe("zones and ids", () => {
    it("derives the region of a zone", () => {
        expect(regionOfZone("fr-par-1")).toBe("fr-par");
        expect(regionOfZone("pl-waw-3")).toBe("pl-waw");
        expect(() => regionOfZone("paris")).toThrow('zone "paris" is invalid: expected the form fr-par-1, nl-ams-2, pl-waw-3');
    });

    it("parses zoned ids and refuses anything else", () => {
        expect(parseZonedId("fr-par-1/0d1b714f-2767-4937-a9e5-4399cfd45338")).toEqual({
            zone: "fr-par-1",
            id: "0d1b714f-2767-4937-a9e5-4399cfd45338",
        });
        expect(() => parseZonedId("0d1b714f-2767-4937-a9e5-4399cfd45338")).toThrow(/is not a zoned id: expected <zone>\/<uuid>/);
        expect(() => parseZonedId("fr-par/0d1b714f-2767-4937-a9e5-4399cfd45338")).toThrow(/is not a zoned id/);
    });
});

describe("appFqdn", () => {
    it("joins the hostname and the environment domain, lowercased", () => {
        expect(appFqdn("test", "Prod.Example.com")).toBe("test.prod.example.com");
    });

    it("refuses names DNS cannot carry", () => {
        expect(() => appFqdn("te_st", "prod.example.com")).toThrow('"te_st.prod.example.com" is not a valid DNS name');
        expect(() => appFqdn("x".repeat(64), "example.com")).toThrow(/is not a valid DNS name/);
    });

    it("knows which names are in a zone", () => {
        expect(isWithinZone("test.prod.example.com", "example.com")).toBe(true);
        expect(isWithinZone("example.com", "example.com")).toBe(true);
        expect(isWithinZone("test.badexample.com", "example.com")).toBe(false);
    });
});
