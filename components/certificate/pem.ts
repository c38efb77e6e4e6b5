// @peculiar/x509 2.x resolves its internals through tsyringe, which needs a Reflect polyfill loaded first.
import "reflect-metadata";
import { createHash, createPrivateKey, X509Certificate as NodeX509Certificate } from "node:crypto";
import {
    AuthorityKeyIdentifierExtension,
    BasicConstraintsExtension,
    SubjectAlternativeNameExtension,
    X509Certificate,
} from "@peculiar/x509";

/** One `-----BEGIN <label>-----` ... `-----END <label>-----` block, decoded. */
export interface PemBlock {
    label: string;
    der: Buffer;
    /** 1-based position in the input, for error messages. */
    position: number;
}

/** What the provider and the renewal logic need to know about a certificate. */
export interface CertificateInfo {
    subject: string;
    issuer: string;
    commonName?: string;
    /** dNSName entries of the subjectAltName extension, in certificate order. */
    dnsNames: string[];
    /** Lowercase hex, no separators, no sign byte (as `openssl x509 -serial` shows it, lowercased). */
    serialNumber: string;
    notBefore: Date;
    notAfter: Date;
    /** SHA-256 of the DER, lowercase hex with colons. */
    fingerprintSha256: string;
    /** keyIdentifier of the Authority Key Identifier extension, lowercase hex; absent when the CA omits it. */
    authorityKeyIdentifier?: string;
    isCa: boolean;
}

/** A certificate bundle split into the leaf and the certificates that follow it. */
export interface CertificateBundle {
    leaf: CertificateInfo;
    leafPem: string;
    intermediatePems: string[];
}

const BEGIN = /^-----BEGIN ([A-Z0-9 ]+)-----$/;
const END = /^-----END ([A-Z0-9 ]+)-----$/;
const BASE64_LINE = /^[A-Za-z0-9+/]*={0,2}$/;
const PRIVATE_KEY_LABELS = ["PRIVATE KEY", "EC PRIVATE KEY", "RSA PRIVATE KEY"];

/**
 * Splits PEM text into its blocks. Accepts CRLF line ends, indentation, blank lines and text between
 * blocks (as openssl does); rejects anything that would make a block ambiguous, and says where.
 * Never echoes the input: it may hold a private key.
 */
export function splitPem(text: string, what = "PEM input"): PemBlock[] {
    const blocks: PemBlock[] = [];
    let open: { label: string; beganOnLine: number; body: string[] } | undefined;
    // Files concatenated without a final newline glue an END line to the next BEGIN line.
    const lines = text.replace(/(-----END [A-Z0-9 ]+-----)[ \t]*(?=-----BEGIN )/g, "$1\n").split(/\r?\n|\r/);
    lines.forEach((rawLine, index) => {
        const line = rawLine.trim();
        const lineNumber = index + 1;
        const begin = BEGIN.exec(line);
        const end = END.exec(line);
        if (open === undefined) {
            if (end) {
                throw new Error(`${what}: line ${lineNumber} ends a "${end[1]}" block that was never begun`);
            }
            if (begin) {
                open = { label: begin[1], beganOnLine: lineNumber, body: [] };
            }
            return;
        }
        const position = blocks.length + 1;
        if (begin) {
            throw new Error(
                `${what}: block ${position} ("${open.label}", line ${open.beganOnLine}) has no END line before the next BEGIN on line ${lineNumber}`,
            );
        }
        if (end) {
            if (end[1] !== open.label) {
                throw new Error(`${what}: block ${position} begins as "${open.label}" but ends as "${end[1]}" on line ${lineNumber}`);
            }
            blocks.push({ label: open.label, der: decodeBody(open.body, open.label, position, what), position });
            open = undefined;
            return;
        }
        if (line.includes(":")) {
            throw new Error(
                `${what}: block ${position} ("${open.label}") has a header on line ${lineNumber}; encrypted or legacy PEM headers are not supported`,
            );
        }
        if (line !== "" && !BASE64_LINE.test(line)) {
            throw new Error(`${what}: block ${position} ("${open.label}") has characters that are not base64 on line ${lineNumber}`);
        }
        open.body.push(line);
    });
    if (open !== undefined) {
        throw new Error(
            `${what}: block ${blocks.length + 1} ("${open.label}", line ${open.beganOnLine}) has no "-----END ${open.label}-----" line`,
        );
    }
    if (blocks.length === 0) {
        throw new Error(`${what}: no PEM block found in ${text.length} characters (expected a "-----BEGIN ...-----" line)`);
    }
    return blocks;
}

function decodeBody(body: string[], label: string, position: number, what: string): Buffer {
    const base64 = body.join("");
    if (base64.length === 0) {
        throw new Error(`${what}: block ${position} ("${label}") is empty`);
    }
    if (base64.length % 4 !== 0 || /=[^=]/.test(base64)) {
        throw new Error(`${what}: block ${position} ("${label}") is not valid base64 (truncated or padded in the middle)`);
    }
    return Buffer.from(base64, "base64");
}

/** Encodes DER as PEM with 64-character lines and LF line ends. */
export function toPem(label: string, der: Buffer): string {
    const lines = der.toString("base64").match(/.{1,64}/g) ?? [];
    return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

/** Parses one certificate, given as PEM (one block) or DER. */
export function parseCertificate(certificate: string | Buffer): CertificateInfo {
    if (typeof certificate === "string") {
        const blocks = splitPem(certificate, "certificate");
        if (blocks.length !== 1) {
            throw new Error(`certificate: expected exactly one PEM block, found ${blocks.length}`);
        }
        return parseCertificateBlock(blocks[0], "certificate");
    }
    return parseCertificateBlock({ label: "CERTIFICATE", der: certificate, position: 1 }, "certificate");
}

function parseCertificateBlock(block: PemBlock, what: string): CertificateInfo {
    if (block.label !== "CERTIFICATE") {
        throw new Error(`${what}: block ${block.position} is a "${block.label}", expected a "CERTIFICATE"`);
    }
    let cert: X509Certificate;
    try {
        cert = new X509Certificate(block.der);
    } catch (error) {
        throw new Error(
            `${what}: block ${block.position} is labelled CERTIFICATE but is not a valid X.509 certificate (${errorText(error)})`,
        );
    }
    const san = cert.getExtension(SubjectAlternativeNameExtension);
    const aki = cert.getExtension(AuthorityKeyIdentifierExtension);
    const basicConstraints = cert.getExtension(BasicConstraintsExtension);
    const [commonName] = cert.subjectName.getField("CN");
    return {
        subject: cert.subject,
        issuer: cert.issuer,
        commonName,
        dnsNames: (san?.names.items ?? []).filter((name) => name.type === "dns").map((name) => name.value),
        serialNumber: cert.serialNumber.toLowerCase(),
        notBefore: cert.notBefore,
        notAfter: cert.notAfter,
        fingerprintSha256: colonHex(createHash("sha256").update(block.der).digest()),
        authorityKeyIdentifier: aki?.keyId?.toLowerCase(),
        isCa: basicConstraints?.ca ?? false,
    };
}

/**
 * Splits a certificate chain as ACME servers (and acme-client) return it: the leaf first, then the
 * intermediates. Refuses a bundle holding anything but certificates, or one that starts with a CA.
 */
export function parseCertificateBundle(bundlePem: string): CertificateBundle {
    const what = "certificate bundle";
    const blocks = splitPem(bundlePem, what);
    const infos = blocks.map((block) => parseCertificateBlock(block, what));
    const [leaf] = infos;
    if (leaf.isCa) {
        throw new Error(
            `${what}: the first certificate ("${leaf.subject}") is a CA certificate; expected the leaf (end-entity) certificate first`,
        );
    }
    const pems = blocks.map((block) => toPem("CERTIFICATE", block.der));
    return { leaf, leafPem: pems[0], intermediatePems: pems.slice(1) };
}

/**
 * The single PEM blob Scaleway's LB API takes as `custom_certificate.certificate_chain`: the private
 * key, the leaf, then the intermediates, normalised to LF and 64-column lines. Checks that the key is
 * the leaf's key, since the LB would otherwise reject it later with a far vaguer error.
 */
export function buildScalewayCertificateChain(privateKeyPem: string, certificatePem: string): string {
    const keyBlock = singlePrivateKeyBlock(privateKeyPem);
    const bundle = parseCertificateBundle(certificatePem);
    const keyPem = toPem(keyBlock.label, keyBlock.der);
    let matches: boolean;
    try {
        matches = new NodeX509Certificate(bundle.leafPem).checkPrivateKey(createPrivateKey(keyPem));
    } catch (error) {
        throw new Error(`private key: cannot be read (${errorText(error)})`);
    }
    if (!matches) {
        throw new Error(
            `private key: does not belong to the leaf certificate ("${bundle.leaf.subject}", serial ${bundle.leaf.serialNumber})`,
        );
    }
    return [keyPem, bundle.leafPem, ...bundle.intermediatePems].join("");
}

function singlePrivateKeyBlock(privateKeyPem: string): PemBlock {
    const blocks = splitPem(privateKeyPem, "private key");
    const keys = blocks.filter((block) => PRIVATE_KEY_LABELS.includes(block.label));
    if (keys.length !== 1 || blocks.length !== 1) {
        const found = blocks.map((block) => `"${block.label}"`).join(", ");
        throw new Error(`private key: expected exactly one ${PRIVATE_KEY_LABELS.map((l) => `"${l}"`).join(" or ")} block, found ${found}`);
    }
    return keys[0];
}

function colonHex(bytes: Buffer): string {
    return (bytes.toString("hex").match(/../g) ?? []).join(":");
}

function errorText(error: unknown): string {
    return error instanceof Error ? error.message : String(error);
}
