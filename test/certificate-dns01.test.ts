import { describe, expect, it } from "vitest";
import { challengeRecordName, parseDnsServer, validateTtl, zoneCandidates } from "../components/certificate/dns01";

describe("DNS-01 names", () => {
    it("puts the challenge under _acme-challenge, for wildcards too", () => {
        expect(challengeRecordName("App.Example.com")).toBe("_acme-challenge.app.example.com");
        expect(challengeRecordName("*.example.com")).toBe("_acme-challenge.example.com");
        expect(challengeRecordName("example.com.")).toBe("_acme-challenge.example.com");
    });

    it("lists the zones that could own a name, longest first, never a bare TLD", () => {
        expect(zoneCandidates("_acme-challenge.app.example.co.uk")).toEqual([
            "_acme-challenge.app.example.co.uk",
            "app.example.co.uk",
            "example.co.uk",
            "co.uk",
        ]);
        expect(zoneCandidates("Example.com.")).toEqual(["example.com"]);
        expect(zoneCandidates("localhost")).toEqual([]);
    });
});

describe("DNS resolvers", () => {
    it.each([
        ["1.1.1.1", "1.1.1.1"],
        [" 127.0.0.1:5353 ", "127.0.0.1:5353"],
        ["2606:4700::1111", "2606:4700::1111"],
        ["[::1]:5353", "[::1]:5353"],
    ])("accepts %j", (input, expected) => {
        expect(parseDnsServer(input)).toBe(expected);
    });

    it.each(["ns1.example.com", "127.0.0.1:0", "127.0.0.1:70000", "1.2.3:53", ""])("refuses %j", (input) => {
        expect(() => parseDnsServer(input)).toThrow(`DNS resolver "${input}" is not an IP address or ip:port`);
    });
});

describe("DNS-01 settings", () => {
    it("accepts TTLs from Cloudflare's 60 s minimum to a day", () => {
        expect(validateTtl(60)).toBe(60);
        expect(validateTtl(120)).toBe(120);
        expect(() => validateTtl(30)).toThrow("TXT TTL must be a whole number of seconds from 60 to 86400, got 30");
        expect(() => validateTtl(90.5)).toThrow("got 90.5");
    });
});
