/**
 * How the local Scaleway LB API reads a custom certificate's `certificate_chain`: ONE PEM blob
 * with the private key, the leaf and the intermediates (docs/scaleway-lb.md §2). Pure functions, so the
 * rules can be tested without a server.
 */
import { createHash, createPrivateKey, X509Certificate, type KeyObject } from "node:crypto";

export interface CertificateBundle {
    leaf: X509Certificate;
    /** Certificates after the leaf, in the order given. */
    intermediates: X509Certificate[];
    /** First CN of the leaf's subject ("" when it has none). */
    commonName: string;
    /** DNS and IP SANs of the leaf, minus the common name (the real API lists only the extra names). */
    subjectAlternativeNames: string[];
    /** SHA-1 of the leaf's DER, lowercase hex without separators (as the real API shows it). */
    fingerprint: string;
    notValidBefore: Date;
    notValidAfter: Date;
}

export type BundleParseResult = { ok: true; bundle: CertificateBundle } | { ok: false; reason: string };

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n[\s\S]*?-----END \1-----/g;
const PRIVATE_KEY_LABELS = new Set(["PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY"]);

interface PemBlock {
    label: string;
    pem: string;
}

export function pemBlocks(text: string): PemBlock[] {
    return [...text.matchAll(PEM_BLOCK)].map((match) => ({ label: match[1] ?? "", pem: match[0] }));
}

function commonNameOf(certificate: X509Certificate): string {
    const line = certificate.subject.split("\n").find((entry) => entry.startsWith("CN="));
    return line ? line.slice("CN=".length) : "";
}

/** "DNS:a.example, IP Address:10.0.0.1" -> ["a.example", "10.0.0.1"] */
export function subjectAltNames(certificate: X509Certificate): string[] {
    return (certificate.subjectAltName ?? "")
        .split(", ")
        .map((entry) => /^(?:DNS|IP Address):(.+)$/.exec(entry)?.[1])
        .filter((name): name is string => name !== undefined);
}

function parseCertificates(blocks: PemBlock[]): X509Certificate[] | string {
    const parsed: X509Certificate[] = [];
    for (const [index, block] of blocks.entries()) {
        try {
            parsed.push(new X509Certificate(block.pem));
        } catch {
            return `certificate #${index + 1} of the chain cannot be parsed`;
        }
    }
    return parsed;
}

function parsePrivateKey(pem: string): KeyObject | undefined {
    try {
        return createPrivateKey(pem);
    } catch {
        return undefined;
    }
}

export function parseCertificateBundle(blob: string): BundleParseResult {
    const blocks = pemBlocks(blob);
    if (blocks.some((block) => block.label === "ENCRYPTED PRIVATE KEY")) {
        return { ok: false, reason: "encrypted private keys are not supported" };
    }
    const keys = blocks.filter((block) => PRIVATE_KEY_LABELS.has(block.label));
    if (keys.length === 0) return { ok: false, reason: "the certificate chain contains no private key" };
    if (keys.length > 1) return { ok: false, reason: "the certificate chain contains more than one private key" };
    const certificates = parseCertificates(blocks.filter((block) => block.label === "CERTIFICATE"));
    if (typeof certificates === "string") return { ok: false, reason: certificates };
    const [leaf, ...intermediates] = certificates;
    if (!leaf) return { ok: false, reason: "the certificate chain contains no certificate" };
    const key = parsePrivateKey(keys[0]?.pem ?? "");
    if (!key) return { ok: false, reason: "the private key cannot be parsed" };
    if (!leaf.checkPrivateKey(key)) {
        return { ok: false, reason: "the private key does not match the first certificate of the chain" };
    }
    const commonName = commonNameOf(leaf);
    return {
        ok: true,
        bundle: {
            leaf,
            intermediates,
            commonName,
            subjectAlternativeNames: subjectAltNames(leaf).filter((name) => name !== commonName),
            fingerprint: createHash("sha1").update(leaf.raw).digest("hex"),
            notValidBefore: new Date(leaf.validFrom),
            notValidAfter: new Date(leaf.validTo),
        },
    };
}
