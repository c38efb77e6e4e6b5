import * as acme from "acme-client";
import Cloudflare from "cloudflare";
import * as dns from "node:dns";
import * as https from "node:https";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { normalizeRecordName, startCloudflareServer, type CloudflareZone, type LocalCloudflareServer } from "../local/cloudflare-server";
import { startPebble, type PebbleInstance } from "../local/pebble";

let server: LocalCloudflareServer;
let pebble: PebbleInstance;
let cf: Cloudflare;
let zone: CloudflareZone;

beforeAll(async () => {
    pebble = await startPebble();
    server = await startCloudflareServer({ challtestsrvManagementUrl: pebble.challtestsrv.managementUrl });
    cf = new Cloudflare({ apiToken: server.apiToken, baseURL: server.baseUrl, maxRetries: 0 });
    zone = server.addZone("example.com", { nameServers: ["ns1.example.net", "ns2.example.net"] });
});

afterAll(async () => {
    await server?.stop();
    await pebble?.stop();
});

async function rejection(promise: Promise<unknown>): Promise<InstanceType<typeof Cloudflare.APIError>> {
    try {
        await promise;
    } catch (error) {
        return error as InstanceType<typeof Cloudflare.APIError>;
    }
    throw new Error("expected the call to be rejected");
}

function errorCodes(error: InstanceType<typeof Cloudflare.APIError>): number[] {
    return (error.errors as { code: number }[]).map((entry) => entry.code);
}

async function resolveTxt(name: string): Promise<string[]> {
    const resolver = new dns.promises.Resolver({ timeout: 2_000, tries: 1 });
    resolver.setServers([pebble.dnsServer]);
    try {
        return (await resolver.resolveTxt(name)).map((chunks) => chunks.join("")).sort();
    } catch (error) {
        if (["ENODATA", "ENOTFOUND"].includes((error as NodeJS.ErrnoException).code ?? "")) return [];
        throw error;
    }
}

describe("authentication and envelope", () => {
    it("requires the bearer token and answers in Cloudflare's error envelope", async () => {
        const response = await fetch(`${server.baseUrl}/zones`);
        expect(response.status).toBe(403);
        expect(await response.json()).toEqual({
            success: false,
            errors: [{ code: 10000, message: "Authentication error" }],
            messages: [],
            result: null,
        });

        const stranger = new Cloudflare({ apiToken: "wrong-token", baseURL: server.baseUrl, maxRetries: 0 });
        const error = await rejection(stranger.zones.list());
        expect(error).toBeInstanceOf(Cloudflare.PermissionDeniedError);
        expect(errorCodes(error)).toEqual([10000]);
    });

    it("wraps results in the success envelope with result_info on lists", async () => {
        const response = await fetch(`${server.baseUrl}/zones?name=example.com`, {
            headers: { Authorization: `Bearer ${server.apiToken}` },
        });
        expect(await response.json()).toMatchObject({
            success: true,
            errors: [],
            messages: [],
            result: [{ id: zone.id }],
            result_info: { page: 1, count: 1, total_count: 1 },
        });
    });
});

describe("zones", () => {
    it("finds a zone by name and returns its name servers", async () => {
        server.addZone("example.org");
        const page = await cf.zones.list({ name: "example.com" });
        expect(page.result.map((found) => found.id)).toEqual([zone.id]);
        const fetched = await cf.zones.get({ zone_id: zone.id });
        expect(fetched).toMatchObject({ name: "example.com", status: "active", name_servers: ["ns1.example.net", "ns2.example.net"] });
        expect(await rejection(cf.zones.get({ zone_id: "0".repeat(32) }))).toBeInstanceOf(Cloudflare.NotFoundError);
    });
});

describe("DNS records", () => {
    it("creates, lists with SDK v7 filters, replaces, patches and deletes records", async () => {
        const created = await cf.dns.records.create({
            zone_id: zone.id,
            type: "A",
            name: "admin",
            content: "172.16.4.10",
            ttl: 60,
            proxied: false,
        });
        expect(created).toMatchObject({
            name: "admin.example.com",
            type: "A",
            content: "172.16.4.10",
            ttl: 60,
            proxied: false,
            proxiable: true,
        });

        const decoy = await cf.dns.records.create({ zone_id: zone.id, type: "A", name: "decoy", content: "172.16.4.99", ttl: 60 });
        const byName = await cf.dns.records.list({ zone_id: zone.id, type: "A", name: { exact: "admin.example.com" } });
        expect(byName.result.map((record) => record.id)).toEqual([created.id]);
        expect((await cf.dns.records.list({ zone_id: zone.id, type: "TXT", name: { exact: "admin.example.com" } })).result).toEqual([]);
        expect(
            (await cf.dns.records.list({ zone_id: zone.id, content: { exact: "172.16.4.10" } })).result.map((record) => record.id),
        ).toEqual([created.id]);
        expect((await cf.dns.records.list({ zone_id: zone.id, name: { startswith: "decoy." } })).result.map((record) => record.id)).toEqual(
            [decoy.id],
        );
        expect(
            (
                await cf.dns.records.list({
                    zone_id: zone.id,
                    type: "A",
                    match: "any",
                    name: { exact: "admin.example.com" },
                    content: { exact: "172.16.4.99" },
                })
            ).result,
        ).toHaveLength(2);

        const replaced = await cf.dns.records.update(created.id, {
            zone_id: zone.id,
            type: "A",
            name: "admin.example.com",
            content: "172.16.4.11",
            ttl: 120,
        });
        expect(replaced).toMatchObject({ content: "172.16.4.11", ttl: 120, proxied: false });
        const patched = await cf.dns.records.edit(created.id, { zone_id: zone.id, type: "A", name: "admin.example.com", ttl: 1 });
        expect(patched).toMatchObject({ content: "172.16.4.11", ttl: 1 });
        expect((await cf.dns.records.get(created.id, { zone_id: zone.id })).content).toBe("172.16.4.11");

        expect(await cf.dns.records.delete(created.id, { zone_id: zone.id })).toEqual({ id: created.id });
        expect(await rejection(cf.dns.records.get(created.id, { zone_id: zone.id }))).toBeInstanceOf(Cloudflare.NotFoundError);
        expect(server.records(zone.id).some((record) => record.id === created.id)).toBe(false);
    });

    it("accepts TTL 1 or 60..86400 only", async () => {
        for (const ttl of [30, 59, 86401]) {
            const error = await rejection(cf.dns.records.create({ zone_id: zone.id, type: "TXT", name: `ttl-${ttl}`, content: "x", ttl }));
            expect(error, String(ttl)).toBeInstanceOf(Cloudflare.BadRequestError);
            expect(errorCodes(error)).toEqual([9021]);
        }
        for (const ttl of [1, 60, 86400]) {
            expect((await cf.dns.records.create({ zone_id: zone.id, type: "TXT", name: `ttl-ok-${ttl}`, content: "x", ttl })).ttl).toBe(
                ttl,
            );
        }
    });

    it("refuses identical records, CNAME conflicts, bad addresses and proxied TXT", async () => {
        await cf.dns.records.create({ zone_id: zone.id, type: "A", name: "dup", content: "10.0.0.1", ttl: 60 });
        expect(
            errorCodes(await rejection(cf.dns.records.create({ zone_id: zone.id, type: "A", name: "dup", content: "10.0.0.1", ttl: 60 }))),
        ).toEqual([81058]);
        expect(
            errorCodes(
                await rejection(cf.dns.records.create({ zone_id: zone.id, type: "CNAME", name: "dup", content: "x.example.net", ttl: 60 })),
            ),
        ).toEqual([81053]);
        expect(
            errorCodes(await rejection(cf.dns.records.create({ zone_id: zone.id, type: "A", name: "bad", content: "not-an-ip", ttl: 60 }))),
        ).toEqual([9005]);
        expect(
            errorCodes(
                await rejection(cf.dns.records.create({ zone_id: zone.id, type: "TXT", name: "px", content: "x", ttl: 60, proxied: true })),
            ),
        ).toEqual([9004]);
    });

    it("stores TXT content exactly as sent, quotes included", async () => {
        const record = await cf.dns.records.create({ zone_id: zone.id, type: "TXT", name: "quoted", content: '"v=spf1 -all"', ttl: 60 });
        expect(record.content).toBe('"v=spf1 -all"');
        expect(server.records(zone.id).find((stored) => stored.id === record.id)?.content).toBe('"v=spf1 -all"');
    });

    it("pages through records with result_info, which the SDK iterator follows", async () => {
        for (let index = 0; index < 7; index++)
            await cf.dns.records.create({ zone_id: zone.id, type: "TXT", name: "paged", content: `value-${index}`, ttl: 60 });
        const first = await cf.dns.records.list({ zone_id: zone.id, name: { exact: "paged.example.com" }, per_page: 5 });
        expect(first.result).toHaveLength(5);
        expect(first.result_info).toMatchObject({ page: 1, per_page: 5, total_count: 7, total_pages: 2 });
        const all = [];
        for await (const record of cf.dns.records.list({ zone_id: zone.id, name: { exact: "paged.example.com" }, per_page: 5 }))
            all.push(record);
        expect(all).toHaveLength(7);
    });

    it("answers injected 429s with Retry-After, which the SDK retries by itself", async () => {
        const retrying = new Cloudflare({ apiToken: server.apiToken, baseURL: server.baseUrl, maxRetries: 2 });
        server.failNext({ method: "GET", pathPattern: "/zones", status: 429, retryAfterSeconds: 0 });
        const before = server.callCount("GET", /\/zones$/);
        expect((await retrying.zones.list({ name: "example.com" })).result).toHaveLength(1);
        expect(server.callCount("GET", /\/zones$/)).toBe(before + 2);

        server.failNext({ pathPattern: /\/zones$/, status: 429, retryAfterSeconds: 0 });
        const limited = await rejection(cf.zones.list());
        expect(limited).toBeInstanceOf(Cloudflare.RateLimitError);
        expect(errorCodes(limited)).toEqual([971]);
    });
});

describe("mirroring to pebble-challtestsrv", () => {
    it("serves _acme-challenge TXT values as Cloudflare would, through creates, deletes and edits", async () => {
        const name = "_acme-challenge.mirror.example.com";
        const first = await cf.dns.records.create({
            zone_id: zone.id,
            type: "TXT",
            name: "_acme-challenge.mirror",
            content: '"token-one"',
            ttl: 60,
        });
        const second = await cf.dns.records.create({ zone_id: zone.id, type: "TXT", name, content: "token-two", ttl: 60 });
        expect(await resolveTxt(name)).toEqual(["token-one", "token-two"]);

        await cf.dns.records.delete(first.id, { zone_id: zone.id });
        expect(await resolveTxt(name)).toEqual(["token-two"]);

        await cf.dns.records.edit(second.id, { zone_id: zone.id, type: "TXT", name, content: "token-three", ttl: 60 });
        expect(await resolveTxt(name)).toEqual(["token-three"]);
        await cf.dns.records.delete(second.id, { zone_id: zone.id });
        expect(await resolveTxt(name)).toEqual([]);
    });

    it("mirrors _acme-challenge CNAME delegations", async () => {
        await pebble.challtestsrv.setTxt("_acme-challenge.validation.example.net", "delegated-token");
        await cf.dns.records.create({
            zone_id: zone.id,
            type: "CNAME",
            name: "_acme-challenge.delegated",
            content: "_acme-challenge.validation.example.net",
            ttl: 60,
        });
        expect(await resolveTxt("_acme-challenge.delegated.example.com")).toEqual(["delegated-token"]);
    });

    it("does not mirror names outside _acme-challenge", async () => {
        await cf.dns.records.create({ zone_id: zone.id, type: "TXT", name: "plain", content: "not-mirrored", ttl: 60 });
        expect(await resolveTxt("plain.example.com")).toEqual([]);
    });

    it("lets Pebble validate DNS-01 through records written with the Cloudflare SDK", async () => {
        acme.axios.defaults.httpsAgent = new https.Agent({ ca: pebble.caCertPem });
        const client = new acme.Client({ directoryUrl: pebble.directoryUrl, accountKey: await acme.crypto.createPrivateEcdsaKey() });
        const [, csr] = await acme.crypto.createCsr({ commonName: "issued.example.com" }, await acme.crypto.createPrivateEcdsaKey());
        const recordIds: string[] = [];
        const certificate = await client.auto({
            csr,
            termsOfServiceAgreed: true,
            challengePriority: ["dns-01"],
            skipChallengeVerification: true,
            challengeCreateFn: async (authz, _challenge, keyAuthorization) => {
                const record = await cf.dns.records.create({
                    zone_id: zone.id,
                    type: "TXT",
                    name: `_acme-challenge.${authz.identifier.value}`,
                    content: `"${keyAuthorization}"`,
                    ttl: 60,
                });
                recordIds.push(record.id);
            },
            challengeRemoveFn: async () => {
                for (const id of recordIds.splice(0)) await cf.dns.records.delete(id, { zone_id: zone.id });
            },
        });
        expect(certificate).toContain("BEGIN CERTIFICATE");
        expect(await resolveTxt("_acme-challenge.issued.example.com")).toEqual([]);
    });
});

describe("normalizeRecordName", () => {
    it("completes relative names and names from other zones with the zone, like Cloudflare", () => {
        expect(normalizeRecordName("@", "example.com")).toBe("example.com");
        expect(normalizeRecordName("Admin", "example.com")).toBe("admin.example.com");
        expect(normalizeRecordName("admin.example.com.", "example.com")).toBe("admin.example.com");
        expect(normalizeRecordName("admin.example.org", "example.com")).toBe("admin.example.org.example.com");
    });
});
