/**
 * issueCertificate end to end: Pebble as the CA, the local Cloudflare API (mirrored into Pebble's
 * DNS) as the DNS provider, and every failure path checked for TXT records left behind.
 */
import { generateKeyPairSync, X509Certificate } from "node:crypto";
import * as dgram from "node:dgram";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type IssueRequest, issueCertificate, revokeCertificate } from "../components/certificate/acme";
import { ariCertId } from "../components/certificate/ari";
import { buildScalewayCertificateChain, parseCertificateBundle } from "../components/certificate/pem";
import { type CloudflareZone, type LocalCloudflareServer, startCloudflareServer } from "../local/cloudflare-server";
import { startPebble, type PebbleInstance } from "../local/pebble";

const accountKeyPem = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ type: "pkcs8", format: "pem" }).toString();

let pebble: PebbleInstance;
let cloudflare: LocalCloudflareServer;
let exampleCom: CloudflareZone;
let exampleNet: CloudflareZone;

beforeAll(async () => {
    pebble = await startPebble();
    cloudflare = await startCloudflareServer({ challtestsrvManagementUrl: pebble.challtestsrv.managementUrl });
    // The zones' "authoritative" name server is Pebble's DNS: propagation checks then need no resolvers.
    exampleCom = cloudflare.addZone("example.com", { nameServers: [pebble.dnsServer] });
    exampleNet = cloudflare.addZone("example.net", { nameServers: [pebble.dnsServer] });
});

afterAll(async () => {
    await cloudflare?.stop();
    await pebble?.stop();
});

function issueRequest(domains: string[], overrides: Partial<IssueRequest> = {}): IssueRequest {
    return {
        directoryUrl: pebble.directoryUrl,
        accountKeyPem,
        email: "ops@example.com",
        domains,
        keyType: "ecdsa-p256",
        cloudflare: { apiToken: cloudflare.apiToken, baseUrl: cloudflare.baseUrl },
        caCertificatesPem: pebble.caCertPem,
        timeouts: { propagationMs: 10_000, validationMs: 20_000 },
        ...overrides,
    };
}

const txtRecords = () => cloudflare.records().filter((record) => record.type === "TXT");

function logLines(): { lines: string[]; log: (line: string) => void } {
    const lines: string[] = [];
    return { lines, log: (line) => lines.push(line) };
}

describe("issueCertificate against Pebble and the local Cloudflare API", () => {
    it("issues a certificate for one name that chains to Pebble's root and matches its key", async () => {
        const { lines, log } = logLines();
        const issued = await issueCertificate(issueRequest(["app.example.com"], { log }));

        expect(issued.leaf.dnsNames).toEqual(["app.example.com"]);
        expect(issued.leaf.commonName).toBe("app.example.com");
        expect(issued.ariCertId).toBe(ariCertId(issued.leaf));
        const bundle = parseCertificateBundle(issued.certificatePem);
        const [leaf, ...intermediates] = [bundle.leafPem, ...bundle.intermediatePems].map((pem) => new X509Certificate(pem));
        const root = new X509Certificate(await pebble.issuerRootPem());
        expect(leaf.verify(intermediates[0].publicKey)).toBe(true);
        expect(intermediates[intermediates.length - 1].verify(root.publicKey)).toBe(true);
        expect(buildScalewayCertificateChain(issued.privateKeyPem, issued.certificatePem)).toContain(issued.privateKeyPem);

        expect(txtRecords()).toEqual([]);
        expect(cloudflare.callCount("POST", /dns_records$/)).toBeGreaterThanOrEqual(1);
        expect(lines.join("\n")).not.toContain("PRIVATE KEY");
        expect(lines).toContain("DNS-01: every server serves every TXT record");
    });

    it("issues for several names in two zones, looking each zone up once", async () => {
        const before = cloudflare.calls.length;
        const issued = await issueCertificate(issueRequest(["api.example.com", "admin.example.net", "deep.api.example.com"]));
        expect(issued.leaf.dnsNames.sort()).toEqual(["admin.example.net", "api.example.com", "deep.api.example.com"]);
        const zoneLookups = cloudflare.calls.slice(before).filter((call) => call.method === "GET" && /\/zones$/.test(call.path));
        const lookedUp = zoneLookups.map((call) => new URLSearchParams(call.query).get("name"));
        expect(lookedUp.filter((name) => name === "example.com")).toHaveLength(1);
        expect(lookedUp.filter((name) => name === "api.example.com")).toHaveLength(1);
        expect(new Set(lookedUp).size).toBe(lookedUp.length);
        expect(txtRecords()).toEqual([]);
    });

    it("issues a wildcard with its base name: two TXT values on one name", async () => {
        const before = cloudflare.calls.length;
        const issued = await issueCertificate(issueRequest(["*.wild.example.com", "wild.example.com"]));
        expect(issued.leaf.dnsNames).toEqual(["*.wild.example.com", "wild.example.com"]);
        expect(issued.leaf.commonName).toBe("*.wild.example.com");
        const creates = cloudflare.calls.slice(before).filter((call) => call.method === "POST" && call.path.endsWith("/dns_records"));
        expect(creates).toHaveLength(2);
        expect(txtRecords()).toEqual([]);
    });

    it("follows an _acme-challenge CNAME into another zone and leaves the CNAME alone", async () => {
        // The target starts with _acme-challenge so the local Cloudflare API mirrors it into Pebble's DNS.
        const target = "_acme-challenge.delegated.example.net";
        await createRecord(exampleCom, { type: "CNAME", name: "_acme-challenge.cname.example.com", content: target, ttl: 60 });
        const { lines, log } = logLines();

        const issued = await issueCertificate(issueRequest(["cname.example.com"], { log }));

        expect(issued.leaf.dnsNames).toEqual(["cname.example.com"]);
        expect(lines).toContain(`DNS-01: creating TXT ${target} in zone example.net (CNAME from _acme-challenge.cname.example.com)`);
        expect(txtRecords()).toEqual([]);
        expect(cloudflare.records(exampleCom.id).map((record) => [record.type, record.name, record.content])).toEqual([
            ["CNAME", "_acme-challenge.cname.example.com", target],
        ]);
    });

    it("checks propagation on the given resolvers, with the TXT TTL asked for", async () => {
        const { lines, log } = logLines();
        let published: { name: string; ttl: number; comment: string | null }[] = [];
        const watch = (line: string) => {
            log(line);
            if (line === "DNS-01: every server serves every TXT record") {
                published = txtRecords().map(({ name, ttl, comment }) => ({ name, ttl, comment }));
            }
        };
        await issueCertificate(issueRequest(["resolvers.example.com"], { dnsResolvers: [pebble.dnsServer], txtTtl: 60, log: watch }));
        expect(lines).toContain("DNS-01: waiting for 1 TXT record(s) on 1 server(s)");
        expect(published).toEqual([
            { name: "_acme-challenge.resolvers.example.com", ttl: 60, comment: "ACME DNS-01 challenge, removed after validation" },
        ]);
        expect(txtRecords()).toEqual([]);
    });

    it("publishes with a TTL of 120 s by default and refuses one under Cloudflare's 60 s before any call", async () => {
        let ttls: number[] = [];
        const watch = (line: string) => {
            if (line === "DNS-01: every server serves every TXT record") {
                ttls = txtRecords().map((record) => record.ttl);
            }
        };
        await issueCertificate(issueRequest(["ttl.example.com"], { log: watch }));
        expect(ttls).toEqual([120]);
        const before = cloudflare.calls.length;
        // A CA that is not even asked: the request is refused before the directory is read.
        await expect(
            issueCertificate(issueRequest(["ttl.example.com"], { txtTtl: 30, directoryUrl: "https://127.0.0.1:9/dir" })),
        ).rejects.toThrow("DNS-01: TXT TTL must be a whole number of seconds from 60 to 86400, got 30");
        expect(cloudflare.calls.length).toBe(before);
    });

    it("rides out a Cloudflare 500 with the SDK's retries", async () => {
        cloudflare.failNext({ method: "POST", pathPattern: /dns_records$/, status: 500 });
        const issued = await issueCertificate(issueRequest(["retry.example.com"]));
        expect(issued.leaf.dnsNames).toEqual(["retry.example.com"]);
        expect(txtRecords()).toEqual([]);
    });

    it("revokes what it issued, and a second revocation counts as done", async () => {
        const issued = await issueCertificate(issueRequest(["revoke.example.com"]));
        const { lines, log } = logLines();
        const revoke = {
            directoryUrl: pebble.directoryUrl,
            accountKeyPem,
            certificatePem: issued.certificatePem,
            caCertificatesPem: pebble.caCertPem,
            log,
        };
        await revokeCertificate(revoke);
        await revokeCertificate(revoke);
        expect(lines).toEqual([
            `ACME: revoked serial ${issued.leaf.serialNumber}`,
            `ACME: serial ${issued.leaf.serialNumber} was already revoked`,
        ]);
    });
});

describe("every failure path leaves no TXT record behind", () => {
    it("a DNS server that never gets the value: the error names the record and the server", async () => {
        const silent = dgram.createSocket("udp4");
        await new Promise<void>((resolve) => silent.bind(0, "127.0.0.1", resolve));
        const silentServer = `127.0.0.1:${silent.address().port}`;
        try {
            const started = Date.now();
            await expect(
                issueCertificate(
                    issueRequest(["slow.example.com"], {
                        dnsResolvers: [pebble.dnsServer, silentServer],
                        timeouts: { propagationMs: 3_000 },
                    }),
                ),
            ).rejects.toThrow(
                new RegExp(
                    `TXT records not visible after 3 s: TXT _acme-challenge\\.slow\\.example\\.com: ${silentServer.replace(/\./g, "\\.")} gave no answer`,
                ),
            );
            expect(Date.now() - started).toBeLessThan(15_000);
        } finally {
            silent.close();
        }
        expect(txtRecords()).toEqual([]);
    });

    it("Cloudflare failing on the second create: the first record is deleted", async () => {
        cloudflare.failNext({ method: "POST", pathPattern: `zones/${exampleNet.id}/dns_records`, status: 503, times: 1 });
        const before = cloudflare.calls.length;
        await expect(
            issueCertificate(
                issueRequest(["first.example.com", "second.example.net"], {
                    cloudflare: { apiToken: cloudflare.apiToken, baseUrl: cloudflare.baseUrl, maxRetries: 0 },
                }),
            ),
        ).rejects.toThrow(
            "Cloudflare: creating TXT _acme-challenge.second.example.net in zone example.net failed: HTTP 503: injected 503 (code 10000)",
        );
        const calls = cloudflare.calls.slice(before);
        expect(calls.filter((call) => call.method === "POST" && call.status === 200)).toHaveLength(1);
        expect(calls.filter((call) => call.method === "DELETE" && call.status === 200)).toHaveLength(1);
        expect(txtRecords()).toEqual([]);
    });

    it("a create whose answer is lost after Cloudflare made the record: the record is found by its token and deleted", async () => {
        cloudflare.failNext({ method: "POST", pathPattern: /dns_records$/, status: 502, afterApplying: true });
        const before = cloudflare.calls.length;
        await expect(
            issueCertificate(
                issueRequest(["lost.example.com"], {
                    cloudflare: { apiToken: cloudflare.apiToken, baseUrl: cloudflare.baseUrl, maxRetries: 0 },
                }),
            ),
        ).rejects.toThrow("Cloudflare: creating TXT _acme-challenge.lost.example.com in zone example.com failed: HTTP 502");
        const calls = cloudflare.calls.slice(before);
        expect(calls.filter((call) => call.method === "POST").map((call) => call.status)).toEqual([502]);
        expect(calls.filter((call) => call.method === "DELETE" && call.status === 200)).toHaveLength(1);
        expect(txtRecords()).toEqual([]);
    });

    it("a name under no zone fails before anything is created, and says which", async () => {
        const before = cloudflare.calls.length;
        await expect(issueCertificate(issueRequest(["ok.example.com", "app.example.org"]))).rejects.toThrow(
            "DNS-01: no Cloudflare zone visible to this API token holds _acme-challenge.app.example.org " +
                "(looked for _acme-challenge.app.example.org, app.example.org, example.org)",
        );
        expect(cloudflare.calls.slice(before).filter((call) => call.method === "POST")).toEqual([]);
        expect(txtRecords()).toEqual([]);
    });

    it("the CA going away after the records are published: a clear error, and the records are deleted", async () => {
        const doomed = await startPebble();
        const doomedCloudflare = await startCloudflareServer({ challtestsrvManagementUrl: doomed.challtestsrv.managementUrl });
        doomedCloudflare.addZone("example.com", { nameServers: [doomed.dnsServer] });
        try {
            const log = (line: string) => {
                if (line === "DNS-01: every server serves every TXT record") {
                    process.kill(doomed.pids.pebble, "SIGKILL");
                }
            };
            await expect(
                issueCertificate({
                    ...issueRequest(["gone.example.com"], { log }),
                    directoryUrl: doomed.directoryUrl,
                    caCertificatesPem: doomed.caCertPem,
                    cloudflare: { apiToken: doomedCloudflare.apiToken, baseUrl: doomedCloudflare.baseUrl },
                }),
            ).rejects.toThrow(`cannot reach the ACME server at ${new URL(doomed.directoryUrl).origin}`);
            expect(doomedCloudflare.callCount("POST", /dns_records$/)).toBe(1);
            expect(doomedCloudflare.records().filter((record) => record.type === "TXT")).toEqual([]);
        } finally {
            await doomedCloudflare.stop();
            await doomed.stop();
        }
    });

    it("a record Cloudflare refuses to delete is reported for manual removal, and the certificate still counts", async () => {
        cloudflare.failNext({ method: "DELETE", pathPattern: /dns_records\//, status: 500 });
        const { lines, log } = logLines();
        const issued = await issueCertificate(
            issueRequest(["stuck.example.com"], {
                log,
                cloudflare: { apiToken: cloudflare.apiToken, baseUrl: cloudflare.baseUrl, maxRetries: 0 },
            }),
        );
        expect(issued.leaf.dnsNames).toEqual(["stuck.example.com"]);
        const [leftover, ...others] = txtRecords();
        expect(others).toEqual([]);
        expect(lines.filter((line) => line.includes("could not delete"))).toEqual([
            `DNS-01: could not delete TXT _acme-challenge.stuck.example.com (record ${leftover.id} in zone example.com): HTTP 500: injected 500 (code 10000); delete it by hand`,
        ]);
        await deleteRecord(exampleCom, leftover.id);
        expect(txtRecords()).toEqual([]);
    });

    it("an invalid Cloudflare token: the error says which permissions the token needs", async () => {
        await expect(
            issueCertificate(
                issueRequest(["token.example.com"], { cloudflare: { apiToken: "wrong", baseUrl: cloudflare.baseUrl, maxRetries: 0 } }),
            ),
        ).rejects.toThrow(
            /Cloudflare: looking up zone .* failed: HTTP 403: Authentication error \(code 10000\); the API token needs Zone:Read and Zone:DNS:Edit/,
        );
        expect(txtRecords()).toEqual([]);
    });
});

async function deleteRecord(zone: CloudflareZone, id: string): Promise<void> {
    const response = await fetch(`${cloudflare.baseUrl}/zones/${zone.id}/dns_records/${id}`, {
        method: "DELETE",
        headers: { Authorization: `Bearer ${cloudflare.apiToken}` },
    });
    expect(response.status).toBe(200);
}

async function createRecord(zone: CloudflareZone, record: { type: string; name: string; content: string; ttl: number }): Promise<void> {
    const response = await fetch(`${cloudflare.baseUrl}/zones/${zone.id}/dns_records`, {
        method: "POST",
        headers: { Authorization: `Bearer ${cloudflare.apiToken}`, "Content-Type": "application/json" },
        body: JSON.stringify(record),
    });
    expect(response.status).toBe(200);
}
