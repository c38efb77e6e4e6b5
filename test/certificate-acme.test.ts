import { generateKeyPairSync } from "node:crypto";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as acme from "acme-client";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import {
    AcmeRetryAfterTooLongError,
    AcmeServerUnreachableError,
    describeWait,
    dnsChallengeOf,
    type IssueRequest,
    issueCertificate,
    normalizeDomains,
} from "../components/certificate/acme";
import { freeTcpPort } from "../local/ports";

/** A JWS in flattened JSON serialization, as acme-client posts it: the payload is base64url JSON. */
const jwsBody = z.object({ payload: z.string() });

const accountKeyPem = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ type: "pkcs8", format: "pem" }).toString();

function request(directoryUrl: string, overrides: Partial<IssueRequest> = {}): IssueRequest {
    return {
        directoryUrl,
        accountKeyPem,
        email: "ops@example.com",
        domains: ["app.example.com"],
        keyType: "ecdsa-p256",
        // Nothing listens here: these tests must fail before any DNS work.
        cloudflare: { apiToken: "unused", baseUrl: "http://127.0.0.1:9/client/v4", maxRetries: 0 },
        ...overrides,
    };
}

describe("pure ACME helpers", () => {
    it("normalizes names and refuses duplicates and empty lists", () => {
        expect(normalizeDomains([" App.Example.COM. ", "*.example.com"])).toEqual(["app.example.com", "*.example.com"]);
        expect(() => normalizeDomains([])).toThrow("at least one domain name");
        expect(() => normalizeDomains(["a.example.com", "A.example.com", "b.example.com"])).toThrow(
            "duplicate domain names: a.example.com",
        );
    });

    it("picks the dns-01 challenge and names what the CA offers when there is none", () => {
        const dns = { type: "dns-01" as const, url: "https://ca/chall/2", status: "pending" as const, token: "t" };
        const httpChallenge = { type: "http-01" as const, url: "https://ca/chall/1", status: "pending" as const, token: "t" };
        expect(dnsChallengeOf({ identifier: { type: "dns", value: "example.com" }, challenges: [httpChallenge, dns] })).toBe(dns);
        expect(() =>
            dnsChallengeOf({ identifier: { type: "dns", value: "example.com" }, wildcard: true, challenges: [httpChallenge] }),
        ).toThrow("the CA offers no dns-01 challenge for *.example.com (it offers: http-01)");
        expect(() => dnsChallengeOf({ identifier: { type: "dns", value: "example.com" }, challenges: [] })).toThrow("(it offers: none)");
    });

    it("words a wait in seconds and hours", () => {
        expect(describeWait(3_600_000)).toBe("3600 s (1 h)");
        expect(describeWait(5_400_000)).toBe("5400 s (1 h 30 min)");
        expect(describeWait(90_000)).toBe("90 s (1 min)");
        expect(describeWait(1_500)).toBe("2 s");
    });
});

interface Exchange {
    method: string;
    url: string;
    at: number;
}

describe("talking to an unwell ACME server", () => {
    let server: http.Server | undefined;
    afterEach(async () => {
        await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
        server = undefined;
    });

    async function serve(handler: (request: http.IncomingMessage, response: http.ServerResponse, base: string) => void) {
        const exchanges: Exchange[] = [];
        let base = "";
        server = http.createServer((req, res) => {
            exchanges.push({ method: req.method ?? "", url: req.url ?? "", at: Date.now() });
            handler(req, res, base);
        });
        await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
        base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
        return { base, exchanges };
    }

    it("fails fast and in plain words when nothing listens", async () => {
        const port = await freeTcpPort();
        const started = Date.now();
        const issuing = issueCertificate(request(`https://127.0.0.1:${port}/dir`));
        await expect(issuing).rejects.toThrow(
            `cannot reach the ACME server at https://127.0.0.1:${port}/dir: connection refused (nothing listens there)`,
        );
        await expect(issuing).rejects.toBeInstanceOf(AcmeServerUnreachableError);
        expect(Date.now() - started).toBeLessThan(3_000);
    });

    it("fails fast, giving the time, when the directory asks to wait an hour", async () => {
        const { base, exchanges } = await serve((_req, res) => {
            res.writeHead(503, { "Retry-After": "3600", "Content-Type": "application/problem+json" });
            res.end(JSON.stringify({ type: "urn:ietf:params:acme:error:serverInternal", detail: "down for maintenance" }));
        });
        const started = Date.now();
        const issuing = issueCertificate(request(`${base}/dir`));
        await expect(issuing).rejects.toThrow(
            `the ACME server answered HTTP 503 to GET ${base}/dir: down for maintenance and asks to wait 3600 s (1 h) (Retry-After: 3600) before trying again; this run waits at most 60 s`,
        );
        await expect(issuing).rejects.toBeInstanceOf(AcmeRetryAfterTooLongError);
        expect(Date.now() - started).toBeLessThan(3_000);
        expect(exchanges).toHaveLength(1);
    });

    it("fails fast when new-nonce is rate limited past the cap, and honours a short Retry-After first", async () => {
        let nonceRequests = 0;
        const { base, exchanges } = await serve((req, res, root) => {
            if (req.url === "/dir") {
                res.writeHead(200, { "Content-Type": "application/json" });
                res.end(JSON.stringify({ newNonce: `${root}/nonce`, newAccount: `${root}/account`, newOrder: `${root}/order` }));
                return;
            }
            nonceRequests++;
            res.writeHead(nonceRequests === 1 ? 503 : 429, { "Retry-After": nonceRequests === 1 ? "1" : "7200" });
            res.end();
        });
        const lines: string[] = [];
        const log = (line: string) => lines.push(line);
        await expect(issueCertificate(request(`${base}/dir`, { timeouts: { maxRetryAfterSeconds: 30 }, log }))).rejects.toThrow(
            `the ACME server answered HTTP 429 to HEAD ${base}/nonce and asks to wait 7200 s (2 h) (Retry-After: 7200) before trying again; this run waits at most 30 s`,
        );
        const nonces = exchanges.filter((exchange) => exchange.url === "/nonce");
        expect(nonces.map((exchange) => exchange.method)).toEqual(["HEAD", "HEAD"]);
        expect(nonces[1].at - nonces[0].at).toBeGreaterThanOrEqual(950);
        expect(lines).toContain(`ACME: HEAD ${base}/nonce answered HTTP 503; try 2 of 4 in 1 s`);
    });

    it("gives up after the configured attempts on a server that keeps failing without Retry-After", async () => {
        const { base, exchanges } = await serve((_req, res) => {
            res.writeHead(500, { "Content-Type": "application/problem+json" });
            res.end(JSON.stringify({ type: "urn:ietf:params:acme:error:serverInternal", detail: "boom" }));
        });
        await expect(issueCertificate(request(`${base}/dir`, { timeouts: { requestAttempts: 2 } }))).rejects.toThrow(
            `returned error 500: ${base}/dir`,
        );
        expect(exchanges).toHaveLength(2);
    });

    it("sends profile and replaces in the new order as they are", async () => {
        const orders: unknown[] = [];
        const { base } = await serve((req, res, root) => {
            let body = "";
            req.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")));
            req.on("end", () => {
                const json = { "Content-Type": "application/json", "Replay-Nonce": `nonce-${Date.now()}` };
                if (req.url === "/dir") {
                    res.writeHead(200, json).end(
                        JSON.stringify({ newNonce: `${root}/nonce`, newAccount: `${root}/account`, newOrder: `${root}/order` }),
                    );
                } else if (req.url === "/nonce") {
                    res.writeHead(200, json).end();
                } else if (req.url === "/account") {
                    res.writeHead(201, { ...json, Location: `${root}/account/1` }).end(JSON.stringify({ status: "valid" }));
                } else {
                    // The JWS payload is base64url JSON; what the CA would read as the order.
                    const { payload } = jwsBody.parse(JSON.parse(body));
                    orders.push(JSON.parse(Buffer.from(payload, "base64url").toString("utf8")));
                    res.writeHead(400, { ...json, "Content-Type": "application/problem+json" }).end(
                        JSON.stringify({ type: "urn:ietf:params:acme:error:malformed", detail: "order seen, stopping here" }),
                    );
                }
            });
        });
        await expect(
            issueCertificate(
                request(`${base}/dir`, {
                    domains: ["*.example.com", "example.com"],
                    profile: "shortlived",
                    replaces: "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE",
                }),
            ),
        ).rejects.toThrow("order seen, stopping here");
        const identifiers = [
            { type: "dns", value: "*.example.com" },
            { type: "dns", value: "example.com" },
        ];
        // Refused while naming a predecessor, the order goes once more without it; that one's refusal stands.
        expect(orders).toEqual([
            { identifiers, profile: "shortlived", replaces: "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE" },
            { identifiers, profile: "shortlived" },
        ]);
    });

    it("leaves acme-client's process-wide axios settings alone", async () => {
        const globalSettings = () =>
            JSON.stringify({
                timeout: acme.axios.defaults.timeout,
                acme: (acme.axios.defaults as { acmeSettings?: unknown }).acmeSettings,
            });
        const before = globalSettings();
        const port = await freeTcpPort();
        await expect(
            issueCertificate(request(`http://127.0.0.1:${port}/dir`, { timeouts: { requestMs: 1_234, maxRetryAfterSeconds: 5 } })),
        ).rejects.toThrow("cannot reach");
        expect(globalSettings()).toBe(before);
    });
});
