import "reflect-metadata";
import { execFileSync } from "node:child_process";
import { createPrivateKey } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KeyUsageFlags, KeyUsagesExtension, Pkcs10CertificateRequest, SubjectAlternativeNameExtension } from "@peculiar/x509";
import { afterAll, describe, expect, it } from "vitest";
import { createCsr, generateCertificateKey, keyAlgorithms } from "../components/certificate/keys";
import type { KeyType } from "../components/certificate/types";

const workDir = mkdtempSync(join(tmpdir(), "csr-test-"));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

function extensionOf<T>(csr: Pkcs10CertificateRequest, type: abstract new (...args: never[]) => T): T | undefined {
    return csr.extensions.find((extension): extension is T & typeof extension => extension instanceof type);
}

function opensslText(csrPem: string): string {
    const path = join(workDir, `csr-${Math.random().toString(16).slice(2)}.pem`);
    writeFileSync(path, csrPem);
    // -verify makes openssl check the CSR's self-signature: an independent reading of what we built.
    return execFileSync("openssl", ["req", "-in", path, "-noout", "-text", "-verify"], { encoding: "utf8", stdio: "pipe" });
}

describe("certificate keys", () => {
    it.each<[KeyType, string, number | undefined]>([
        ["ecdsa-p256", "ec", undefined],
        ["rsa-2048", "rsa", 2048],
    ])("generates a %s key as PKCS#8 PEM", async (keyType, asymmetricKeyType, modulusLength) => {
        const key = await generateCertificateKey(keyType);
        expect(key.privateKeyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n[\s\S]+\n-----END PRIVATE KEY-----\n$/);
        const parsed = createPrivateKey(key.privateKeyPem);
        expect(parsed.asymmetricKeyType).toBe(asymmetricKeyType);
        expect(parsed.asymmetricKeyDetails?.namedCurve ?? parsed.asymmetricKeyDetails?.modulusLength).toBe(modulusLength ?? "prime256v1");
    });
});

describe("key algorithms", () => {
    it("maps every key type to its generation parameters and KeyUsage", () => {
        expect(keyAlgorithms("ecdsa-p256")).toMatchObject({
            generate: { name: "ECDSA", namedCurve: "P-256" },
            usages: KeyUsageFlags.digitalSignature,
        });
        for (const [keyType, modulusLength] of [
            ["rsa-2048", 2048],
            ["rsa-4096", 4096],
        ] as const) {
            expect(keyAlgorithms(keyType)).toMatchObject({
                generate: { name: "RSASSA-PKCS1-v1_5", modulusLength, hash: "SHA-256" },
                usages: KeyUsageFlags.digitalSignature | KeyUsageFlags.keyEncipherment,
            });
        }
    });
});

describe("CSR", () => {
    it.each<[KeyType, KeyUsageFlags, string]>([
        ["ecdsa-p256", KeyUsageFlags.digitalSignature, "Digital Signature\n"],
        ["rsa-2048", KeyUsageFlags.digitalSignature | KeyUsageFlags.keyEncipherment, "Digital Signature, Key Encipherment\n"],
    ])("asks for the KeyUsage a %s key needs and nothing more", async (keyType, usages, opensslUsages) => {
        const csrPem = await createCsr(["app.example.com", "app.example.net"], await generateCertificateKey(keyType));
        const csr = new Pkcs10CertificateRequest(csrPem);
        const keyUsage = extensionOf(csr, KeyUsagesExtension);
        expect(keyUsage?.usages).toBe(usages);
        expect(keyUsage?.critical).toBe(true);
        expect(await csr.verify()).toBe(true);
        expect(opensslText(csrPem)).toMatch(new RegExp(`X509v3 Key Usage: critical\\s+${opensslUsages}`));
    });

    it("puts the first name in the CN and every name, wildcards included, in the SAN", async () => {
        const names = ["*.example.com", "example.com", "admin.example.org"];
        const csr = new Pkcs10CertificateRequest(await createCsr(names, await generateCertificateKey("ecdsa-p256")));
        expect(csr.subjectName.getField("CN")).toEqual(["*.example.com"]);
        const san = extensionOf(csr, SubjectAlternativeNameExtension);
        expect(san?.names.items.map((name) => [name.type, name.value])).toEqual(names.map((name) => ["dns", name]));
    });

    it("leaves out a CN longer than 64 characters but keeps the name in the SAN", async () => {
        const long = `${"a".repeat(60)}.example.com`;
        const csr = new Pkcs10CertificateRequest(await createCsr([long, "b.example.com"], await generateCertificateKey("ecdsa-p256")));
        expect(csr.subjectName.getField("CN")).toEqual([]);
        expect(extensionOf(csr, SubjectAlternativeNameExtension)?.names.items.map((name) => name.value)).toEqual([long, "b.example.com"]);
    });

    it("refuses an empty name list", async () => {
        await expect(createCsr([], await generateCertificateKey("ecdsa-p256"))).rejects.toThrow("at least one domain name");
    });
});
