import * as acme from "acme-client";
import { X509Certificate } from "node:crypto";
import * as dns from "node:dns";
import * as fs from "node:fs";
import * as https from "node:https";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fullyQualified } from "../local/challtestsrv";
import { PEBBLE_INSTALL_HINT, startPebble, type PebbleInstance } from "../local/pebble";
import { pidIsAlive, runningProcesses } from "../local/processes";

const VALIDITY_SECONDS = 3_600;

function getStatus(url: string, options: https.RequestOptions): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
        https
            .get(url, options, (response) => {
                let body = "";
                response.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")));
                response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
            })
            .on("error", reject);
    });
}

function resolverFor(pebble: PebbleInstance): dns.promises.Resolver {
    const resolver = new dns.promises.Resolver({ timeout: 2_000, tries: 1 });
    resolver.setServers([pebble.dnsServer]);
    return resolver;
}

function splitPemCertificates(pem: string): X509Certificate[] {
    return (pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map((block) => new X509Certificate(block));
}

describe("startPebble", () => {
    let pebble: PebbleInstance;

    beforeAll(async () => {
        pebble = await startPebble({ certificateValidityPeriodSeconds: VALIDITY_SECONDS });
    });

    afterAll(async () => {
        await pebble?.stop();
    });

    it("serves the ACME directory over TLS that only the generated CA makes trusted", async () => {
        expect(pebble.directoryUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/dir$/);
        const trusted = await getStatus(pebble.directoryUrl, { ca: pebble.caCertPem });
        expect(trusted.status).toBe(200);
        expect(JSON.parse(trusted.body)).toHaveProperty("newOrder");
        await expect(getStatus(pebble.directoryUrl, {})).rejects.toThrow(/self[- ]signed|unable to (get|verify)/i);
        expect(fs.readFileSync(pebble.caCertPath, "utf8")).toBe(pebble.caCertPem);
    });

    it("exposes the issuing root, distinct from the listener CA", async () => {
        const [root] = splitPemCertificates(await pebble.issuerRootPem());
        expect(root?.ca).toBe(true);
        expect(root?.subject).toMatch(/Pebble Root CA/);
        expect(root?.fingerprint256).not.toBe(new X509Certificate(pebble.caCertPem).fingerprint256);
    });

    it("answers TXT records set through challtestsrv, appending values, following CNAMEs and clearing", async () => {
        const resolver = resolverFor(pebble);
        const host = "_acme-challenge.txt-test.example";
        await pebble.challtestsrv.setTxt(host, "first");
        await pebble.challtestsrv.setTxt(host, "second");
        expect((await resolver.resolveTxt(host)).map((chunks) => chunks.join("")).sort()).toEqual(["first", "second"]);

        await pebble.challtestsrv.setCname("_acme-challenge.alias.example", host);
        expect(await resolver.resolveCname("_acme-challenge.alias.example")).toEqual([host]);

        await pebble.challtestsrv.clearTxt(host);
        const code: unknown = expect.stringMatching(/ENODATA|ENOTFOUND/);
        await expect(resolver.resolveTxt(host)).rejects.toMatchObject({ code });
    });

    it("issues a certificate through DNS-01 with the configured lifetime, chaining to the issuing root", async () => {
        acme.axios.defaults.httpsAgent = new https.Agent({ ca: pebble.caCertPem });
        const client = new acme.Client({ directoryUrl: pebble.directoryUrl, accountKey: await acme.crypto.createPrivateEcdsaKey() });
        const [, csr] = await acme.crypto.createCsr({ commonName: "app.issuance.example" }, await acme.crypto.createPrivateEcdsaKey());
        const certificatePem = await client.auto({
            csr,
            email: "ops@issuance.example",
            termsOfServiceAgreed: true,
            challengePriority: ["dns-01"],
            // Pebble checks through challtestsrv; the process-wide resolver knows nothing of it.
            skipChallengeVerification: true,
            challengeCreateFn: async (authz, _challenge, keyAuthorization) => {
                await pebble.challtestsrv.setTxt(fullyQualified(`_acme-challenge.${authz.identifier.value}`), keyAuthorization);
            },
            challengeRemoveFn: async (authz) => {
                await pebble.challtestsrv.clearTxt(`_acme-challenge.${authz.identifier.value}`);
            },
        });
        const [leaf, intermediate] = splitPemCertificates(certificatePem);
        const [root] = splitPemCertificates(await pebble.issuerRootPem());
        expect(leaf?.subjectAltName).toBe("DNS:app.issuance.example");
        const lifetimeSeconds = (Date.parse(leaf?.validTo ?? "") - Date.parse(leaf?.validFrom ?? "")) / 1000;
        expect(Math.abs(lifetimeSeconds - VALIDITY_SECONDS)).toBeLessThanOrEqual(2);
        expect(leaf?.checkIssued(intermediate)).toBe(true);
        expect(intermediate?.verify(root.publicKey)).toBe(true);
    });
});

describe("startPebble lifecycle", () => {
    it("stops both processes and removes its temp dir, idempotently", async () => {
        const pebble = await startPebble();
        const { pebble: pebblePid, challtestsrv: challtestsrvPid } = pebble.pids;
        expect(pidIsAlive(pebblePid)).toBe(true);
        expect(pidIsAlive(challtestsrvPid)).toBe(true);
        expect(pebble.logs()).toMatch(/Configured to reject 0% of good nonces/);

        await Promise.all([pebble.stop(), pebble.stop()]);
        expect(pidIsAlive(pebblePid)).toBe(false);
        expect(pidIsAlive(challtestsrvPid)).toBe(false);
        expect(fs.existsSync(path.dirname(pebble.caCertPath))).toBe(false);
        expect(runningProcesses().map((process) => process.pid)).not.toContain(pebblePid);
        await pebble.stop();
    });

    it("tells how to install pebble when it is not on PATH", async () => {
        const originalPath = process.env.PATH;
        process.env.PATH = "/nonexistent";
        try {
            await expect(startPebble()).rejects.toThrow(PEBBLE_INSTALL_HINT);
        } finally {
            process.env.PATH = originalPath;
        }
        expect(PEBBLE_INSTALL_HINT).toBe("install it with `apt-get install -y pebble` (Debian package)");
    });
});
