import "reflect-metadata";
import { X509Certificate as NodeX509Certificate, webcrypto } from "node:crypto";
import {
    AuthorityKeyIdentifierExtension,
    BasicConstraintsExtension,
    SubjectAlternativeNameExtension,
    SubjectKeyIdentifierExtension,
    X509CertificateGenerator,
} from "@peculiar/x509";
import { beforeAll, describe, expect, it } from "vitest";
import { generateCertificateKey } from "../components/certificate/keys";
import { buildScalewayCertificateChain, parseCertificate, parseCertificateBundle, splitPem } from "../components/certificate/pem";

const EC = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" };
const notBefore = new Date("2026-06-01T10:00:00Z");
const notAfter = new Date("2026-07-16T09:59:59Z");

interface Fixture {
    leafPem: string;
    intermediatePem: string;
    rootPem: string;
    leafKeyPem: string;
    otherKeyPem: string;
    intermediateKeyId: string;
}
let fixture: Fixture;

// A root, an intermediate and a leaf the way a public CA shapes them (AKI, SAN, serial with the high bit set).
beforeAll(async () => {
    const rootKeys = await webcrypto.subtle.generateKey(EC, true, ["sign", "verify"]);
    const root = await X509CertificateGenerator.createSelfSigned(
        {
            serialNumber: "01",
            name: "CN=Test Root",
            notBefore,
            notAfter: new Date("2036-01-01T00:00:00Z"),
            keys: rootKeys,
            signingAlgorithm: EC,
            extensions: [new BasicConstraintsExtension(true, 1, true)],
        },
        webcrypto,
    );
    const intermediateKeys = await webcrypto.subtle.generateKey(EC, true, ["sign", "verify"]);
    const intermediateSki = await SubjectKeyIdentifierExtension.create(intermediateKeys.publicKey, false, webcrypto);
    const intermediate = await X509CertificateGenerator.create(
        {
            serialNumber: "02",
            subject: "CN=Test Intermediate",
            issuer: root.subject,
            notBefore,
            notAfter: new Date("2030-01-01T00:00:00Z"),
            publicKey: intermediateKeys.publicKey,
            signingKey: rootKeys.privateKey,
            signingAlgorithm: EC,
            extensions: [new BasicConstraintsExtension(true, 0, true), intermediateSki],
        },
        webcrypto,
    );
    const leafKey = await generateCertificateKey("ecdsa-p256");
    const leaf = await X509CertificateGenerator.create(
        {
            serialNumber: "8a0b0c0d0e0f",
            subject: "CN=app.example.com",
            issuer: intermediate.subject,
            notBefore,
            notAfter,
            publicKey: leafKey.keys.publicKey,
            signingKey: intermediateKeys.privateKey,
            signingAlgorithm: EC,
            extensions: [
                new BasicConstraintsExtension(false, undefined, true),
                new SubjectAlternativeNameExtension([
                    { type: "dns", value: "app.example.com" },
                    { type: "dns", value: "*.app.example.com" },
                ]),
                new AuthorityKeyIdentifierExtension(intermediateSki.keyId),
            ],
        },
        webcrypto,
    );
    fixture = {
        leafPem: leaf.toString("pem") + "\n",
        intermediatePem: intermediate.toString("pem") + "\n",
        rootPem: root.toString("pem") + "\n",
        leafKeyPem: leafKey.privateKeyPem,
        otherKeyPem: (await generateCertificateKey("ecdsa-p256")).privateKeyPem,
        intermediateKeyId: intermediateSki.keyId,
    };
});

const chainPem = (): string => `${fixture.leafPem}\n${fixture.intermediatePem}\n`;
const keyBase64 = (): string => fixture.leafKeyPem.split("\n")[1];

describe("parseCertificate", () => {
    it("reads names, serial, validity, fingerprint and AKI", () => {
        const info = parseCertificate(fixture.leafPem);
        const node = new NodeX509Certificate(fixture.leafPem);
        expect(info.commonName).toBe("app.example.com");
        expect(info.dnsNames).toEqual(["app.example.com", "*.app.example.com"]);
        expect(info.serialNumber).toBe("8a0b0c0d0e0f");
        expect(info.notBefore).toEqual(notBefore);
        expect(info.notAfter).toEqual(notAfter);
        expect(info.fingerprintSha256).toBe(node.fingerprint256.toLowerCase());
        expect(info.fingerprintSha256).toMatch(/^([0-9a-f]{2}:){31}[0-9a-f]{2}$/);
        expect(info.authorityKeyIdentifier).toBe(fixture.intermediateKeyId.toLowerCase());
        expect(info.issuer).toBe("CN=Test Intermediate");
        expect(info.isCa).toBe(false);
    });

    it("reads DER as well as PEM", () => {
        const der = new NodeX509Certificate(fixture.leafPem).raw;
        expect(parseCertificate(der)).toEqual(parseCertificate(fixture.leafPem));
    });

    it("says when a block is base64 but not a certificate", () => {
        expect(() => parseCertificate("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")).toThrow(
            /block 1 is labelled CERTIFICATE but is not a valid X.509 certificate/,
        );
    });
});

describe("parseCertificateBundle", () => {
    it("splits what an ACME server returns into the leaf and the intermediates", () => {
        const bundle = parseCertificateBundle(chainPem());
        expect(bundle.leaf.commonName).toBe("app.example.com");
        expect(bundle.leafPem).toBe(fixture.leafPem);
        expect(bundle.intermediatePems).toEqual([fixture.intermediatePem]);
    });

    it("copes with CRLF, indentation, blank lines and text between blocks", () => {
        const messy = `Certificate chain from the CA\r\n\r\n${fixture.leafPem
            .split("\n")
            .map((line) => `   ${line}  `)
            .join("\r\n")}\r\nsubject=CN = Test Intermediate\r\n\r\n${fixture.intermediatePem.replace(/\n/g, "\r\n\r\n")}`;
        const bundle = parseCertificateBundle(messy);
        expect(bundle.leafPem).toBe(fixture.leafPem);
        expect(bundle.intermediatePems).toEqual([fixture.intermediatePem]);
    });

    it("copes with files concatenated without a final newline", () => {
        const glued = `${fixture.leafPem.trimEnd()}${fixture.intermediatePem.trimEnd()}`;
        expect(parseCertificateBundle(glued).intermediatePems).toEqual([fixture.intermediatePem]);
    });

    it("refuses a bundle that starts with a CA certificate", () => {
        expect(() => parseCertificateBundle(`${fixture.intermediatePem}${fixture.leafPem}`)).toThrow(
            'the first certificate ("CN=Test Intermediate") is a CA certificate; expected the leaf (end-entity) certificate first',
        );
    });

    it("refuses a private key inside a certificate bundle, without echoing it", () => {
        const error = captureError(() => parseCertificateBundle(`${fixture.leafPem}${fixture.leafKeyPem}`));
        expect(error).toContain('block 2 is a "PRIVATE KEY", expected a "CERTIFICATE"');
        expect(error).not.toContain(keyBase64());
    });
});

describe("splitPem errors", () => {
    it.each([
        ["", /no PEM block found in 0 characters/],
        ["Could not read certificate from <stdin>\n", /no PEM block found in 40 characters/],
        ["-----BEGIN CERTIFICATE-----\nAAAA\n", /block 1 \("CERTIFICATE", line 1\) has no "-----END CERTIFICATE-----" line/],
        [
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END PRIVATE KEY-----\n",
            /block 1 begins as "CERTIFICATE" but ends as "PRIVATE KEY" on line 3/,
        ],
        [
            "-----BEGIN CERTIFICATE-----\nAA*A\n-----END CERTIFICATE-----\n",
            /block 1 \("CERTIFICATE"\) has characters that are not base64 on line 2/,
        ],
        ["-----BEGIN CERTIFICATE-----\nAAA\n-----END CERTIFICATE-----\n", /block 1 \("CERTIFICATE"\) is not valid base64 \(truncated/],
        ["-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n", /block 1 \("CERTIFICATE"\) is empty/],
        ["-----END CERTIFICATE-----\n", /line 1 ends a "CERTIFICATE" block that was never begun/],
        [
            "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nAAAA\n-----END RSA PRIVATE KEY-----\n",
            /has a header on line 2; encrypted or legacy PEM headers are not supported/,
        ],
        [
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
            /block 1 \("CERTIFICATE", line 1\) has no END line before the next BEGIN on line 3/,
        ],
    ])("explains what is wrong with %j", (input, message) => {
        expect(() => splitPem(input)).toThrow(message);
    });
});

describe("buildScalewayCertificateChain", () => {
    it("puts the private key, the leaf and the intermediates in one LF-only blob", () => {
        const blob = buildScalewayCertificateChain(fixture.leafKeyPem.replace(/\n/g, "\r\n"), chainPem().replace(/\n/g, "\r\n"));
        expect(blob).toBe(`${fixture.leafKeyPem}${fixture.leafPem}${fixture.intermediatePem}`);
        expect(blob).not.toContain("\r");
        expect(splitPem(blob).map((block) => block.label)).toEqual(["PRIVATE KEY", "CERTIFICATE", "CERTIFICATE"]);
    });

    it("keeps every intermediate in order", () => {
        const blob = buildScalewayCertificateChain(fixture.leafKeyPem, `${chainPem()}${fixture.rootPem}`);
        expect(blob).toBe(`${fixture.leafKeyPem}${fixture.leafPem}${fixture.intermediatePem}${fixture.rootPem}`);
    });

    it("refuses a key that is not the leaf's, without echoing it", () => {
        const error = captureError(() => buildScalewayCertificateChain(fixture.otherKeyPem, chainPem()));
        expect(error).toBe('private key: does not belong to the leaf certificate ("CN=app.example.com", serial 8a0b0c0d0e0f)');
    });

    it("says when the key is missing or is not a key", () => {
        expect(() => buildScalewayCertificateChain("", chainPem())).toThrow("private key: no PEM block found");
        expect(() => buildScalewayCertificateChain(fixture.leafPem, chainPem())).toThrow(
            'private key: expected exactly one "PRIVATE KEY" or "EC PRIVATE KEY" or "RSA PRIVATE KEY" block, found "CERTIFICATE"',
        );
        expect(() => buildScalewayCertificateChain(`${fixture.leafKeyPem}${fixture.otherKeyPem}`, chainPem())).toThrow(
            'found "PRIVATE KEY", "PRIVATE KEY"',
        );
    });

    it("says when the key block does not decode, without echoing it", () => {
        const garbled = "-----BEGIN PRIVATE KEY-----\nAAAAAAAAAAAAAAAA\n-----END PRIVATE KEY-----\n";
        expect(() => buildScalewayCertificateChain(garbled, chainPem())).toThrow(/^private key: cannot be read \(/);
    });
});

function captureError(action: () => unknown): string {
    try {
        action();
    } catch (error) {
        return error instanceof Error ? error.message : String(error);
    }
    throw new Error("expected an error");
}
