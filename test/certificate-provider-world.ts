/**
 * The local world the certificate provider tests run in: Pebble (+ challtestsrv as the DNS it
 * validates against), the local Cloudflare API mirroring `_acme-challenge` TXT records into
 * challtestsrv, and the local Scaleway LB API. Environment variables point the provider at them
 * exactly as an operator's would point it at the real services.
 */
import { generateKeyPairSync } from "node:crypto";
import { startCloudflareServer, type LocalCloudflareServer } from "../local/cloudflare-server";
import { startPebble, type PebbleInstance, type PebbleOptions } from "../local/pebble";
import { startScalewayServer, type LocalScalewayServer } from "../local/scaleway-server";

export const ZONES = ["example.com", "example.org"];

export interface LoadBalancerSeed {
    /** Zoned `<zone>/<uuid>`. */
    lbId: string;
    lbUuid: string;
    /** The frontend on port 443 (the Service's, in annotation mode; ours in frontend mode). */
    frontendId: string;
}

export interface CertificateWorld {
    pebble: PebbleInstance;
    scaleway: LocalScalewayServer;
    cloudflare: LocalCloudflareServer;
    /** What the provider reads: SCW_*, CLOUDFLARE_*, ACME_CA_CERTIFICATES. */
    env: Record<string, string>;
    accountKeyPem: string;
    /** A fresh LB with a 443 frontend named like `frontendName`. */
    seedLoadBalancer(frontendName?: string): LoadBalancerSeed;
    /** Raw resource inputs, as the component would send them before `check`. */
    inputs(lb: LoadBalancerSeed, overrides?: Record<string, unknown>): Record<string, unknown>;
    /** Every TXT record left in the Cloudflare zones. */
    txtRecords(): string[];
    /** Zoned ids of the certificates on an LB. */
    certificatesOn(lb: LoadBalancerSeed): string[];
    /** Certificate ids (zoned) the 443 frontend carries. */
    frontendCertificates(lb: LoadBalancerSeed): string[];
    stop(): Promise<void>;
}

export async function startCertificateWorld(pebbleOptions: PebbleOptions = {}): Promise<CertificateWorld> {
    const pebble = await startPebble(pebbleOptions);
    const started: Array<{ stop(): Promise<void> }> = [pebble];
    try {
        const scaleway = await startScalewayServer();
        started.push(scaleway);
        const cloudflare = await startCloudflareServer({ challtestsrvManagementUrl: pebble.challtestsrv.managementUrl });
        started.push(cloudflare);
        for (const zone of ZONES) {
            cloudflare.addZone(zone);
        }
        const accountKeyPem = generateKeyPairSync("ec", { namedCurve: "P-256" })
            .privateKey.export({ type: "pkcs8", format: "pem" })
            .toString();
        let seeded = 0;
        return {
            pebble,
            scaleway,
            cloudflare,
            env: {
                SCW_ACCESS_KEY: scaleway.credentials.accessKey,
                SCW_SECRET_KEY: scaleway.credentials.secretKey,
                SCW_API_URL: scaleway.url,
                ...cloudflare.env,
                ACME_CA_CERTIFICATES: pebble.caCertPath,
            },
            accountKeyPem,
            seedLoadBalancer(frontendName = "admin-https") {
                seeded += 1;
                const lb = scaleway.seedLoadBalancer({ name: `private-lb-test-${seeded}` });
                const frontend = scaleway.seedFrontend({
                    lbId: lb.id,
                    name: frontendName,
                    inboundPort: 443,
                    timeoutClientMs: 600_000,
                    enableHttp3: true,
                });
                return { lbId: `${lb.zone}/${lb.id}`, lbUuid: lb.id, frontendId: frontend.id };
            },
            inputs(lb, overrides = {}) {
                return {
                    domains: ["admin.example.com"],
                    loadBalancerId: lb.lbId,
                    acmeDirectoryUrl: pebble.directoryUrl,
                    email: "ops@example.com",
                    accountKeyPem,
                    dnsResolvers: [pebble.dnsServer],
                    cloudflareZones: ZONES,
                    ...overrides,
                };
            },
            txtRecords: () =>
                cloudflare
                    .records()
                    .filter((record) => record.type === "TXT")
                    .map((record) => record.name),
            certificatesOn: (lb) => scaleway.state.certificates(lb.lbUuid).map((certificate) => `${certificate.zone}/${certificate.id}`),
            frontendCertificates(lb) {
                const frontend = scaleway.state.frontends(lb.lbUuid).find((candidate) => candidate.id === lb.frontendId);
                return (frontend?.certificateIds ?? []).map((id) => `${lb.lbId.split("/")[0]}/${id}`);
            },
            async stop() {
                await Promise.all(started.map((service) => service.stop()));
            },
        };
    } catch (error) {
        await Promise.all(started.map((service) => service.stop()));
        throw error;
    }
}
