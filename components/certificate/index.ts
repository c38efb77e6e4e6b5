/**
 * `AcmeCertificate`: a Let's Encrypt certificate (DNS-01 on Cloudflare) uploaded to a private Scaleway
 * LB, bound through the CCM's Service annotation (default) or directly to a frontend, and renewed by
 * `pulumi up` when it falls due.
 */
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { childAliases } from "../aliases";
import { createCertificateProvider } from "./dynamicProvider";
import type { BindingMode, BindingStatus, CertificateOrigin, KeyType } from "./types";
import { type AcmeServerAlias, resolveAcmeDirectory } from "./validation";

export { ACME_DIRECTORIES, DEFAULT_BINDING, DEFAULT_KEY_TYPE, DEFAULT_RENEWAL } from "./validation";
export { createCertificateProvider } from "./dynamicProvider";
export { BINDING_MODES, KEY_TYPES } from "./types";
export type { AcmeServerAlias } from "./validation";
export type {
    Binding,
    BindingMode,
    BindingStatus,
    CertificateInputs,
    CertificateOrigin,
    CertificateOutputs,
    KeyType,
    RenewalPolicy,
} from "./types";

export const ACME_CERTIFICATE_TYPE = "scw-private-lb:certificate:AcmeCertificate";
export const DYNAMIC_MODULE = "scw-private-lb";
export const DYNAMIC_TYPE = "AcmeLbCertificate";
/** Outputs Pulumi must encrypt in state: the provider cannot mark them itself. */
export const SECRET_OUTPUTS = ["privateKeyPem", "accountKeyPem"];

export interface AcmeCertificateArgs {
    /** Names on the certificate; the first is the common name. Each must be under a Cloudflare zone the token can edit. */
    domains: pulumi.Input<pulumi.Input<string>[]>;
    /** Zoned LB id `<zone>/<uuid>`. */
    loadBalancerId: pulumi.Input<string>;
    /** The LB's zone, when known: `check` fails if the LB id says otherwise. */
    zone?: pulumi.Input<string>;
    /** `letsencrypt` (default), `letsencrypt-staging`, or an ACME directory URL. */
    acmeServer?: pulumi.Input<AcmeServerAlias | (string & {})>;
    /** ACME account contact. */
    email: pulumi.Input<string>;
    /** ACME profile (e.g. `classic`, `tlsserver`, `shortlived`); the CA's default when unset. */
    profile?: pulumi.Input<string>;
    /** Default `ecdsa-p256`. */
    keyType?: pulumi.Input<KeyType>;
    renewal?: {
        /** Renew with this fraction of the lifetime left (default 1/3). */
        remainingFraction?: number;
        /** Also renew with fewer than this many days left. */
        minDaysRemaining?: number;
        /** Follow the CA's renewal information (ARI) when it offers it (default true). */
        useAri?: boolean;
    };
    binding?: {
        /** `annotation` (default): feed `certificateId` to the Service annotation. `frontend`: PUT the frontend directly. */
        mode?: BindingMode;
        /** Frontend port in `frontend` mode (default 443). */
        frontendPort?: number;
    };
    /** Resolvers ("ip" or "ip:port") for the TXT propagation check, instead of the zone's nameservers. */
    dnsResolvers?: pulumi.Input<pulumi.Input<string>[]>;
    /** Your own ACME account key (PEM); otherwise the component keeps one in a `tls.PrivateKey`. */
    accountKeyPem?: pulumi.Input<string>;
    /** Allow `*.example.com` names. */
    allowWildcard?: boolean;
    /** Revoke the certificate when the resource is deleted, renewals included (default false). */
    revokeOnDelete?: boolean;
    /** The Cloudflare zones the names belong to: lets `pulumi preview` reject a name no zone covers. */
    cloudflareZones?: pulumi.Input<pulumi.Input<string>[]>;
    /**
     * Zoned id `<zone>/<uuid>` of a certificate already on the LB (e.g. made by hand) for exactly these names:
     * the first `up` takes it over instead of ordering one, and the normal renewal replaces it when due.
     * Its private key stays with the LB (`privateKeyPem` is empty). Ignored once the resource exists.
     */
    adoptCertificateId?: pulumi.Input<string>;
}

/** One provider object for every certificate, so Pulumi serializes it once. */
const certificateProvider = createCertificateProvider();

/** The dynamic resource: inputs as `CertificateInputs`, outputs as `CertificateOutputs`. */
class AcmeLbCertificate extends pulumi.dynamic.Resource {
    declare readonly certificateId: pulumi.Output<string>;
    declare readonly certificateUuid: pulumi.Output<string>;
    declare readonly fingerprint: pulumi.Output<string>;
    declare readonly serialNumber: pulumi.Output<string>;
    declare readonly notBefore: pulumi.Output<string>;
    declare readonly notAfter: pulumi.Output<string>;
    declare readonly certificatePem: pulumi.Output<string>;
    declare readonly privateKeyPem: pulumi.Output<string>;
    declare readonly domains: pulumi.Output<string[]>;
    declare readonly renewalDueAt: pulumi.Output<string>;
    declare readonly bindingStatus: pulumi.Output<BindingStatus>;
    declare readonly origin: pulumi.Output<CertificateOrigin>;

    constructor(name: string, props: pulumi.Inputs, opts: pulumi.CustomResourceOptions) {
        const outputs = {
            certificateId: undefined,
            certificateUuid: undefined,
            fingerprint: undefined,
            serialNumber: undefined,
            notBefore: undefined,
            notAfter: undefined,
            certificatePem: undefined,
            privateKeyPem: undefined,
            renewalDueAt: undefined,
            ariCertId: undefined,
            bindingStatus: undefined,
            origin: undefined,
        };
        super(certificateProvider, name, { ...outputs, ...props }, opts, DYNAMIC_MODULE, DYNAMIC_TYPE);
    }
}

export class AcmeCertificate extends pulumi.ComponentResource {
    /** Zoned LB certificate id `<zone>/<uuid>`: what the Service annotation `443:<id>` needs. */
    readonly certificateId: pulumi.Output<string>;
    readonly certificateUuid: pulumi.Output<string>;
    /** SHA-256 of the leaf, lowercase hex with colons. */
    readonly fingerprint: pulumi.Output<string>;
    readonly serialNumber: pulumi.Output<string>;
    readonly notBefore: pulumi.Output<string>;
    readonly notAfter: pulumi.Output<string>;
    /** Leaf and intermediates (PEM). */
    readonly certificatePem: pulumi.Output<string>;
    /** The certificate's private key (PEM), a secret. */
    readonly privateKeyPem: pulumi.Output<string>;
    readonly domains: pulumi.Output<string[]>;
    /** When the next `pulumi up` will renew it (ISO 8601). */
    readonly renewalDueAt: pulumi.Output<string>;
    readonly bindingStatus: pulumi.Output<BindingStatus>;
    /** `issued` by the provider, or `adopted` (its private key and chain stay with the LB: `privateKeyPem` is empty). */
    readonly origin: pulumi.Output<CertificateOrigin>;

    constructor(name: string, args: AcmeCertificateArgs, opts?: pulumi.ComponentResourceOptions) {
        super(ACME_CERTIFICATE_TYPE, name, {}, opts);

        // A renamed or moved certificate keeps its children: their old URNs follow the component's aliases.
        const childOptions = (type: string, childName: string) => ({
            parent: this,
            aliases: childAliases(this, name, opts, type, childName, (component) => `${component}${childName.slice(name.length)}`),
        });
        // Kept across renewals: ARI replacements must come from the account that ordered the predecessor.
        const accountKeyPem = pulumi.secret(
            args.accountKeyPem ??
                new tls.PrivateKey(
                    `${name}-account-key`,
                    { algorithm: "ECDSA", ecdsaCurve: "P256" },
                    childOptions("tls:index/privateKey:PrivateKey", `${name}-account-key`),
                ).privateKeyPem,
        );

        const certificate = new AcmeLbCertificate(
            `${name}-certificate`,
            {
                domains: args.domains,
                loadBalancerId: args.loadBalancerId,
                zone: args.zone,
                acmeDirectoryUrl: pulumi.output(args.acmeServer ?? "letsencrypt").apply(resolveAcmeDirectory),
                email: args.email,
                accountKeyPem,
                profile: args.profile,
                keyType: args.keyType,
                renewal: args.renewal,
                binding: args.binding,
                dnsResolvers: args.dnsResolvers,
                allowWildcard: args.allowWildcard,
                revokeOnDelete: args.revokeOnDelete,
                cloudflareZones: args.cloudflareZones,
                adoptCertificateId: args.adoptCertificateId,
            },
            {
                ...childOptions(`pulumi-nodejs:dynamic/${DYNAMIC_MODULE}:${DYNAMIC_TYPE}`, `${name}-certificate`),
                additionalSecretOutputs: SECRET_OUTPUTS,
            },
        );

        this.certificateId = certificate.certificateId;
        this.certificateUuid = certificate.certificateUuid;
        this.fingerprint = certificate.fingerprint;
        this.serialNumber = certificate.serialNumber;
        this.notBefore = certificate.notBefore;
        this.notAfter = certificate.notAfter;
        this.certificatePem = certificate.certificatePem;
        this.privateKeyPem = certificate.privateKeyPem;
        this.domains = certificate.domains;
        this.renewalDueAt = certificate.renewalDueAt;
        this.bindingStatus = certificate.bindingStatus;
        this.origin = certificate.origin;

        this.registerOutputs({
            certificateId: this.certificateId,
            certificateUuid: this.certificateUuid,
            fingerprint: this.fingerprint,
            serialNumber: this.serialNumber,
            notBefore: this.notBefore,
            notAfter: this.notAfter,
            certificatePem: this.certificatePem,
            privateKeyPem: this.privateKeyPem,
            domains: this.domains,
            renewalDueAt: this.renewalDueAt,
            bindingStatus: this.bindingStatus,
            origin: this.origin,
        });
    }
}
