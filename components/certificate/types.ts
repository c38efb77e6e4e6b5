/**
 * Shapes shared by the certificate dynamic provider, its ACME side and its Scaleway side.
 * Everything here is plain data: it is what Pulumi stores in state for the resource.
 */

export const KEY_TYPES = ["ecdsa-p256", "rsa-2048", "rsa-4096"] as const;
export type KeyType = (typeof KEY_TYPES)[number];

export const BINDING_MODES = ["annotation", "frontend"] as const;
/**
 * `annotation`: the certificate id flows into the Service annotation and the CCM binds it (safe for
 * CCM-owned frontends). `frontend`: the provider PUTs the frontend itself (only for frontends the CCM
 * does not own, or it reverts the change at its next reconcile).
 */
export type BindingMode = (typeof BINDING_MODES)[number];

export interface RenewalPolicy {
    /** Renew when at most this fraction of the lifetime remains (Let's Encrypt recommends 1/3). */
    remainingFraction: number;
    /** Also renew when fewer than this many days remain (the manual procedure used 30: docs/manual-procedure.md). */
    minDaysRemaining?: number;
    /** Follow the CA's ACME Renewal Information (RFC 9773) when its directory offers it. */
    useAri: boolean;
}

export interface Binding {
    mode: BindingMode;
    /** Inbound port of the frontend to bind in `frontend` mode (443 by default). */
    frontendPort: number;
}

/** Inputs of the dynamic resource `pulumi-nodejs:dynamic/scw-private-lb:AcmeLbCertificate`. */
export interface CertificateInputs {
    /** First name is the common name. */
    domains: string[];
    /** Zoned LB id `<zone>/<uuid>`. */
    loadBalancerId: string;
    /** Zone the caller expects the LB in; `check` fails when the LB id says otherwise. */
    zone?: string;
    /** Resolved ACME directory URL. */
    acmeDirectoryUrl: string;
    email: string;
    /** ACME account key (PEM). A secret input: Pulumi keeps secret inputs encrypted in state. */
    accountKeyPem: string;
    profile?: string;
    keyType: KeyType;
    /** Always "dns-01": recorded so policies can check it. */
    challenge: "dns-01";
    renewal: RenewalPolicy;
    binding: Binding;
    /** "ip" or "ip:port" resolvers for the propagation check instead of the zone's nameservers. */
    dnsResolvers?: string[];
    allowWildcard: boolean;
    revokeOnDelete: boolean;
    /** Cloudflare zones the names must fall under; `check` fails early on a name no zone covers. */
    cloudflareZones?: string[];
    /**
     * Zoned id of a certificate already on the LB (made by hand) that the first `up` takes over instead of
     * ordering one. Only the create of a new resource adopts: `check` drops it once the resource exists, so
     * the renewal that replaces the adopted certificate orders a new one.
     */
    adoptCertificateId?: string;
}

/** `issued` by this provider, or `adopted` from a certificate already on the LB (its key and chain stay with the LB). */
export type CertificateOrigin = "issued" | "adopted";

export type BindingStatus = "annotation-pending" | "bound" | "unbound";

export interface CertificateOutputs extends CertificateInputs {
    /** Zoned LB certificate id `<zone>/<uuid>`. */
    certificateId: string;
    certificateUuid: string;
    /**
     * SHA-256 fingerprint of the leaf, lowercase hex with colons. For an adopted certificate, whose leaf the
     * API does not return, the LB's SHA-1 fingerprint prefixed `sha1:`.
     */
    fingerprint: string;
    /** Leaf serial number, lowercase hex. */
    serialNumber: string;
    notBefore: string;
    notAfter: string;
    /** Leaf + intermediates, PEM (public); empty for an adopted certificate (the LB API never returns the chain). */
    certificatePem: string;
    /**
     * Certificate private key, PEM: only ever exposed through `additionalSecretOutputs`. Empty for an
     * adopted certificate: its key stays with the LB (`origin` says so).
     */
    privateKeyPem: string;
    /** Absent in state written before adoption existed: `issued`. */
    origin?: CertificateOrigin;
    /** When the renewal rule makes this certificate due (ISO 8601). */
    renewalDueAt: string;
    /** RFC 9773 certificate identifier (base64url(AKI).base64url(serial)); empty for an adopted certificate. */
    ariCertId: string;
    /** Time picked inside the CA's suggested renewal window, when the CA offers ARI. */
    ariRenewalAt?: string;
    bindingStatus: BindingStatus;
    /** Set by `read` when the LB certificate or its binding drifted; the next `up` repairs it. */
    drift?: string;
}
