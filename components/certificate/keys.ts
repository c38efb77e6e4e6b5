// @peculiar/x509 2.x resolves its internals through tsyringe, which needs a Reflect polyfill loaded first.
import "reflect-metadata";
import { webcrypto } from "node:crypto";
import { KeyUsageFlags, KeyUsagesExtension, Pkcs10CertificateRequestGenerator, SubjectAlternativeNameExtension } from "@peculiar/x509";
import { toPem } from "./pem";
import type { KeyType } from "./types";

/** A freshly generated certificate key: the PEM to store and the WebCrypto pair to sign the CSR with. */
export interface CertificateKey {
    keyType: KeyType;
    /** PKCS#8 PEM ("PRIVATE KEY"). */
    privateKeyPem: string;
    keys: webcrypto.CryptoKeyPair;
}

interface KeyAlgorithms {
    generate: webcrypto.EcKeyGenParams | webcrypto.RsaHashedKeyGenParams;
    sign: webcrypto.EcdsaParams | webcrypto.Algorithm;
    usages: KeyUsageFlags;
}

const RSA_PUBLIC_EXPONENT = new Uint8Array([1, 0, 1]);

/** X.520 caps a commonName at 64 characters; longer first names go in the SAN only. */
export const COMMON_NAME_MAX_LENGTH = 64;

/**
 * Per key type: how to generate it, how it signs, and the KeyUsage its certificate needs. ECDSA keys
 * only sign (no keyEncipherment, unlike acme-client's createCsr); RSA keys may also encipher, which
 * TLS 1.2 RSA key exchange needs.
 */
export function keyAlgorithms(keyType: KeyType): KeyAlgorithms {
    switch (keyType) {
        case "ecdsa-p256":
            return {
                generate: { name: "ECDSA", namedCurve: "P-256" },
                sign: { name: "ECDSA", hash: "SHA-256" },
                usages: KeyUsageFlags.digitalSignature,
            };
        case "rsa-2048":
        case "rsa-4096":
            return {
                generate: {
                    name: "RSASSA-PKCS1-v1_5",
                    modulusLength: keyType === "rsa-2048" ? 2048 : 4096,
                    publicExponent: RSA_PUBLIC_EXPONENT,
                    hash: "SHA-256",
                },
                sign: { name: "RSASSA-PKCS1-v1_5" },
                usages: KeyUsageFlags.digitalSignature | KeyUsageFlags.keyEncipherment,
            };
    }
}

export async function generateCertificateKey(keyType: KeyType): Promise<CertificateKey> {
    const keys = await webcrypto.subtle.generateKey(keyAlgorithms(keyType).generate, true, ["sign", "verify"]);
    const pkcs8 = await webcrypto.subtle.exportKey("pkcs8", keys.privateKey);
    return { keyType, privateKeyPem: toPem("PRIVATE KEY", Buffer.from(pkcs8)), keys };
}

/**
 * A PKCS#10 CSR (PEM) for `domains`: CN = the first name (when it fits), subjectAltName = every name,
 * KeyUsage as `keyAlgorithms` says. Built here rather than with acme-client's createCsr, which marks
 * ECDSA keys for keyEncipherment.
 */
export async function createCsr(domains: string[], key: CertificateKey): Promise<string> {
    if (domains.length === 0) {
        throw new Error("CSR: at least one domain name is required");
    }
    const algorithms = keyAlgorithms(key.keyType);
    const [first] = domains;
    const csr = await Pkcs10CertificateRequestGenerator.create(
        {
            name: first.length <= COMMON_NAME_MAX_LENGTH ? [{ CN: [first] }] : [],
            keys: key.keys,
            signingAlgorithm: algorithms.sign,
            extensions: [
                new KeyUsagesExtension(algorithms.usages, true),
                new SubjectAlternativeNameExtension(domains.map((value) => ({ type: "dns" as const, value }))),
            ],
        },
        webcrypto,
    );
    return csr.toString("pem");
}
