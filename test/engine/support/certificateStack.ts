/**
 * The engine suite's program: the project's `AcmeCertificate` component against an LB seeded on the local
 * Scaleway server, with the ACME account key given as an input (no tls plugin), its outputs exported.
 * Plus what the suite counts: calls per local service, and requests Pebble answered.
 */
import type { PulumiFn } from "@pulumi/pulumi/automation";
import type { AcmeCertificateArgs } from "../../../components/certificate";
import { type CertificateWorld, type LoadBalancerSeed, ZONES } from "../../certificate-provider-world";

export const DOMAIN = "admin.example.com";
export const CERTIFICATE_TYPE = "pulumi-nodejs:dynamic/scw-private-lb:AcmeLbCertificate";

/** The component module as a checkout holds it (`components/certificate`). */
export type CertificateModule = typeof import("../../../components/certificate");

/** The component outputs the program exports. */
export const EXPORTED_OUTPUTS = [
    "certificateId",
    "fingerprint",
    "notBefore",
    "notAfter",
    "renewalDueAt",
    "domains",
    "bindingStatus",
    "certificatePem",
    "privateKeyPem",
] as const;

/** The program: one certificate for `DOMAIN` on `lb`, its outputs exported. */
export function certificateProgram(
    module: CertificateModule,
    world: CertificateWorld,
    lb: LoadBalancerSeed,
    settings: Partial<Omit<AcmeCertificateArgs, "loadBalancerId">> = {},
): PulumiFn {
    return () => {
        const certificate = new module.AcmeCertificate("admin", {
            domains: [DOMAIN],
            loadBalancerId: lb.lbId,
            zone: lb.lbId.split("/")[0],
            acmeServer: world.pebble.directoryUrl,
            email: "ops@example.com",
            accountKeyPem: world.accountKeyPem,
            dnsResolvers: [world.pebble.dnsServer],
            cloudflareZones: ZONES,
            ...settings,
        });
        return Promise.resolve(Object.fromEntries(EXPORTED_OUTPUTS.map((key) => [key, certificate[key]])));
    };
}

export interface CallCounts {
    scaleway: number;
    scalewayWrites: number;
    cloudflare: number;
    cloudflareWrites: number;
    /** Requests Pebble's ACME server logged. */
    ca: number;
}

export const NO_CALLS: CallCounts = { scaleway: 0, scalewayWrites: 0, cloudflare: 0, cloudflareWrites: 0, ca: 0 };

const PEBBLE_REQUEST = /^Pebble .*\b(GET|HEAD|POST) \/\S* -> calling handler/;

function pebbleRequests(world: CertificateWorld): number {
    const pebbleLog = world.pebble.logs().split("--- pebble-challtestsrv ---")[0];
    return pebbleLog.split("\n").filter((line) => PEBBLE_REQUEST.test(line)).length;
}

/** Counters now; `since(before)` gives what happened after `before` was taken. */
export function callCounts(world: CertificateWorld): CallCounts {
    const writes = (calls: readonly { method: string }[]) => calls.filter((call) => call.method !== "GET").length;
    return {
        scaleway: world.scaleway.calls.length,
        scalewayWrites: writes(world.scaleway.calls),
        cloudflare: world.cloudflare.calls.length,
        cloudflareWrites: writes(world.cloudflare.calls),
        ca: pebbleRequests(world),
    };
}

export function since(world: CertificateWorld, before: CallCounts): CallCounts {
    const now = callCounts(world);
    return {
        scaleway: now.scaleway - before.scaleway,
        scalewayWrites: now.scalewayWrites - before.scalewayWrites,
        cloudflare: now.cloudflare - before.cloudflare,
        cloudflareWrites: now.cloudflareWrites - before.cloudflareWrites,
        ca: now.ca - before.ca,
    };
}
