/**
 * Throwaway certificate authorities and leaf certificates for the local test world: Pebble's own
 * HTTPS listener needs one, and tests that upload chains to the local Scaleway server need
 * realistic key + leaf + intermediate bundles without running an ACME flow.
 *
 * Never use these outside tests: keys are generated in memory and nothing protects them.
 */
import "reflect-metadata"; // @peculiar/x509 2.x resolves its services through tsyringe, which needs it.
import * as x509 from "@peculiar/x509";
import { webcrypto } from "node:crypto";

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

type CryptoKeyPair = webcrypto.CryptoKeyPair;

export type TestKeyType = "ecdsa-p256" | "rsa-2048";

export interface TestCertificateAuthority {
    commonName: string;
    certificatePem: string;
    privateKeyPem: string;
    /** For issuing: the CA's key pair and parsed certificate. */
    readonly keys: CryptoKeyPair;
    readonly certificate: x509.X509Certificate;
}

export interface TestLeafCertificate {
    certificatePem: string;
    privateKeyPem: string;
}

export interface Validity {
    /** Default: one minute ago (tolerates clock skew between processes). */
    notBefore?: Date;
    /** Default: 30 days after notBefore. */
    notAfter?: Date;
}

export interface TestCaOptions extends Validity {
    commonName?: string;
    /** Signs the new CA, making it an intermediate; without it the CA is a self-signed root. */
    issuer?: TestCertificateAuthority;
}

export interface TestLeafOptions extends Validity {
    /** Default: the first DNS name, else the first IP address. */
    commonName?: string;
    dnsNames?: readonly string[];
    ipAddresses?: readonly string[];
    keyType?: TestKeyType;
}

export interface TestChain {
    root: TestCertificateAuthority;
    intermediate: TestCertificateAuthority;
    leaf: TestLeafCertificate;
    /** Leaf then intermediate, PEM: what an ACME CA hands out. */
    fullChainPem: string;
    /** Private key, leaf, intermediate in ONE blob: what the Scaleway LB API wants as `certificate_chain`. */
    scalewayBundlePem: string;
}

const DAY_MS = 24 * 60 * 60 * 1000;

const KEY_ALGORITHMS: Record<TestKeyType, webcrypto.RsaHashedKeyGenParams | webcrypto.EcKeyGenParams> = {
    "ecdsa-p256": { name: "ECDSA", namedCurve: "P-256" },
    "rsa-2048": { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
};

function signingAlgorithmFor(keys: CryptoKeyPair): webcrypto.Algorithm | webcrypto.EcdsaParams {
    return keys.privateKey.algorithm.name === "ECDSA" ? { name: "ECDSA", hash: "SHA-256" } : keys.privateKey.algorithm;
}

function generateKeys(keyType: TestKeyType): Promise<CryptoKeyPair> {
    return webcrypto.subtle.generateKey(KEY_ALGORITHMS[keyType], true, ["sign", "verify"]);
}

async function privateKeyPem(keys: CryptoKeyPair): Promise<string> {
    const pkcs8 = await webcrypto.subtle.exportKey("pkcs8", keys.privateKey);
    return x509.PemConverter.encode(pkcs8, "PRIVATE KEY");
}

function validityOf(options: Validity): { notBefore: Date; notAfter: Date } {
    const notBefore = options.notBefore ?? new Date(Date.now() - 60_000);
    return { notBefore, notAfter: options.notAfter ?? new Date(notBefore.getTime() + 30 * DAY_MS) };
}

function randomSerial(): string {
    // Positive (top bit clear) 64-bit serial, hex.
    const bytes = webcrypto.getRandomValues(new Uint8Array(8));
    bytes[0] = (bytes[0] ?? 0) & 0x7f;
    return Buffer.from(bytes).toString("hex");
}

export async function createTestCa(options: TestCaOptions = {}): Promise<TestCertificateAuthority> {
    const commonName = options.commonName ?? (options.issuer ? "Local Test Intermediate CA" : "Local Test Root CA");
    const keys = await generateKeys("ecdsa-p256");
    const signer = options.issuer?.keys ?? keys;
    const extensions: x509.Extension[] = [
        new x509.BasicConstraintsExtension(true, options.issuer ? 0 : undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
        await x509.AuthorityKeyIdentifierExtension.create(signer.publicKey),
    ];
    const certificate = await x509.X509CertificateGenerator.create({
        serialNumber: randomSerial(),
        subject: `CN=${commonName}`,
        issuer: options.issuer ? options.issuer.certificate.subject : `CN=${commonName}`,
        publicKey: keys.publicKey,
        signingKey: signer.privateKey,
        signingAlgorithm: signingAlgorithmFor(signer),
        extensions,
        ...validityOf(options),
    });
    return {
        commonName,
        certificatePem: certificate.toString("pem"),
        privateKeyPem: await privateKeyPem(keys),
        keys,
        certificate,
    };
}

export async function issueTestLeaf(issuer: TestCertificateAuthority, options: TestLeafOptions): Promise<TestLeafCertificate> {
    const dnsNames = options.dnsNames ?? [];
    const ipAddresses = options.ipAddresses ?? [];
    const commonName = options.commonName ?? dnsNames[0] ?? ipAddresses[0];
    if (!commonName) throw new Error("issueTestLeaf needs a commonName, a DNS name or an IP address");
    const keys = await generateKeys(options.keyType ?? "ecdsa-p256");
    const names: x509.JsonGeneralName[] = [
        ...dnsNames.map((value) => ({ type: "dns" as const, value })),
        ...ipAddresses.map((value) => ({ type: "ip" as const, value })),
    ];
    const certificate = await x509.X509CertificateGenerator.create({
        serialNumber: randomSerial(),
        subject: `CN=${commonName}`,
        issuer: issuer.certificate.subject,
        publicKey: keys.publicKey,
        signingKey: issuer.keys.privateKey,
        signingAlgorithm: signingAlgorithmFor(issuer.keys),
        extensions: [
            new x509.BasicConstraintsExtension(false, undefined, true),
            new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
            new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
            new x509.SubjectAlternativeNameExtension(names),
            await x509.AuthorityKeyIdentifierExtension.create(issuer.keys.publicKey),
        ],
        ...validityOf(options),
    });
    return { certificatePem: certificate.toString("pem"), privateKeyPem: await privateKeyPem(keys) };
}

/** Root -> intermediate -> leaf, the shape of a Let's Encrypt issuance. */
export async function createTestChain(options: TestLeafOptions): Promise<TestChain> {
    const root = await createTestCa();
    const intermediate = await createTestCa({ issuer: root });
    const leaf = await issueTestLeaf(intermediate, options);
    const fullChainPem = `${leaf.certificatePem}\n${intermediate.certificatePem}\n`;
    return { root, intermediate, leaf, fullChainPem, scalewayBundlePem: `${leaf.privateKeyPem}\n${fullChainPem}` };
}
