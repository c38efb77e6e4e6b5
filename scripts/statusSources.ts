/**
 * What `status` asks the APIs: the stack's LBs, their frontends, certificates and private IPs on the
 * Scaleway API (official SDK client, with the provider's bounded retries), and the admin names' A records
 * on Cloudflare (official SDK, which retries 429/5xx itself). Thin: every decision is in `statusReport.ts`.
 */
import { API, createAdvancedClient, urlParams, withHTTPClient, withProfile, type Client } from "@scaleway/sdk-client";
import { Lbv1 } from "@scaleway/sdk-lb";
import Cloudflare from "cloudflare";
import { z } from "zod";
import type { StackConfig } from "../components/config";
import type { CloudflareCredentials, ScalewayCredentials } from "../components/certificate/credentials";
import { retryingFetch, type RetryPolicy } from "../components/certificate/scaleway";
import { regionOfZone } from "../components/naming";
import type { DnsLookup, DnsName, EnvironmentNetwork, ExpectedLoadBalancer, ObservedLoadBalancer } from "./statusReport";

/** An operator waits for this command: fewer and shorter retries than `pulumi up` allows itself. */
export const STATUS_RETRY: RetryPolicy = { attempts: 4, baseDelayMs: 500, maxDelayMs: 5_000, retryAfterCapMs: 30_000 };
const PAGE_SIZE = 100;

const ipamPage = z.object({
    total_count: z.number(),
    ips: z.array(
        z.object({ address: z.string(), source: z.object({ private_network_id: z.string().nullish() }).passthrough() }).passthrough(),
    ),
});
const privateNetworkPage = z.object({
    total_count: z.number(),
    private_networks: z.array(z.object({ id: z.string(), name: z.string() }).passthrough()),
});

async function allPages<T>(fetchPage: (page: number) => Promise<{ total_count: number; items: T[] }>): Promise<T[]> {
    const items: T[] = [];
    for (let page = 1; ; page += 1) {
        const answer = await fetchPage(page);
        items.push(...answer.items);
        if (answer.items.length === 0 || items.length >= answer.total_count) {
            return items;
        }
    }
}

/** The two IPAM and VPC list calls `status` needs, through the same SDK client (no IPAM/VPC SDK is installed). */
class NetworkLookups extends API {
    /** The LB's private addresses without prefix length, by private network id. */
    async lbPrivateIps(region: string, lbId: string): Promise<Record<string, string>> {
        const ips = await allPages(async (page) => {
            const answer = await this.client.fetch(
                {
                    method: "GET",
                    path: `/ipam/v1/regions/${region}/ips`,
                    urlParams: urlParams(
                        ["resource_type", "lb_server"],
                        ["resource_id", lbId],
                        ["is_ipv6", false],
                        ["page", page],
                        ["page_size", PAGE_SIZE],
                    ),
                },
                (body) => ipamPage.parse(body),
            );
            return { total_count: answer.total_count, items: answer.ips };
        });
        return Object.fromEntries(
            ips
                .filter((ip) => ip.source.private_network_id)
                .map((ip) => [ip.source.private_network_id as string, ip.address.split("/")[0] ?? ip.address]),
        );
    }

    async privateNetworkIdsNamed(region: string, name: string): Promise<string[]> {
        const networks = await allPages(async (page) => {
            const answer = await this.client.fetch(
                {
                    method: "GET",
                    path: `/vpc/v2/regions/${region}/private-networks`,
                    urlParams: urlParams(["name", name], ["page", page], ["page_size", PAGE_SIZE]),
                },
                (body) => privateNetworkPage.parse(body),
            );
            return { total_count: answer.total_count, items: answer.private_networks };
        });
        return networks.filter((network) => network.name === name).map((network) => network.id);
    }
}

function scalewayClient(credentials: ScalewayCredentials, retry: RetryPolicy): Client {
    const { accessKey, secretKey, apiUrl } = credentials;
    return createAdvancedClient(
        withProfile({ accessKey, secretKey, ...(apiUrl ? { apiURL: apiUrl } : {}) }),
        withHTTPClient(retryingFetch(retry)),
    );
}

/** `fr-par/<uuid>` or `<uuid>` -> `<uuid>`. */
function bareId(id: string): string {
    return id.slice(id.lastIndexOf("/") + 1);
}

function errorMessage(error: unknown): string {
    return error instanceof Error ? error.message : String(error);
}

async function environmentNetwork(
    lookups: NetworkLookups,
    region: string,
    config: StackConfig,
    environment: string,
): Promise<EnvironmentNetwork> {
    const declared = config.environments[environment];
    if (declared.privateNetworkId !== undefined) {
        return { environment, privateNetworkId: bareId(declared.privateNetworkId) };
    }
    const name = declared.privateNetworkName as string;
    try {
        const ids = await lookups.privateNetworkIdsNamed(region, name);
        return ids.length === 1
            ? { environment, privateNetworkId: ids[0] }
            : {
                  environment,
                  problem: `${ids.length} private networks are named ${name} in ${region} (the ${environment} environment needs exactly one)`,
              };
    } catch (error) {
        return {
            environment,
            problem: `cannot look up the private network ${name} of the ${environment} environment: ${errorMessage(error)}`,
        };
    }
}

export interface ScalewayObservation {
    networks: EnvironmentNetwork[];
    loadBalancers: ObservedLoadBalancer[];
}

/** The stack's LBs (each looked up by its conventional name in its zone) and the private networks they are attached to. */
export async function observeScaleway(
    config: StackConfig,
    expected: readonly ExpectedLoadBalancer[],
    credentials: ScalewayCredentials,
    retry: RetryPolicy = STATUS_RETRY,
): Promise<ScalewayObservation> {
    const client = scalewayClient(credentials, retry);
    const lb = new Lbv1.ZonedAPI(client);
    const lookups = new NetworkLookups(client);
    // Each environment's network is looked up in the region of the first LB attached to it.
    const regionOf = new Map<string, string>();
    for (const expectation of expected) {
        expectation.environments.forEach(
            (environment) => regionOf.has(environment) || regionOf.set(environment, regionOfZone(expectation.zone)),
        );
    }
    const networks = await Promise.all(
        [...regionOf].map(([environment, region]) => environmentNetwork(lookups, region, config, environment)),
    );
    const found = (
        await Promise.all(
            expected.map(async ({ name, zone }) =>
                // The name filter matches substrings: keep only the exact name.
                (await lb.listLbs({ zone, name, pageSize: PAGE_SIZE }).all())
                    .filter((candidate) => candidate.name === name)
                    .map((candidate) => ({ candidate, zone })),
            ),
        )
    ).flat();
    const loadBalancers = await Promise.all(
        found.map(async ({ candidate, zone }): Promise<ObservedLoadBalancer> => {
            const region = regionOfZone(zone);
            const [frontends, certificates, privateIps] = await Promise.all([
                lb.listFrontends({ zone, lbId: candidate.id, pageSize: PAGE_SIZE }).all(),
                lb.listCertificates({ zone, lbId: candidate.id, pageSize: PAGE_SIZE }).all(),
                lookups.lbPrivateIps(region, candidate.id),
            ]);
            return {
                id: candidate.id,
                name: candidate.name,
                zone,
                privateIps,
                frontends: frontends.map((frontend) => ({
                    id: frontend.id,
                    name: frontend.name,
                    inboundPort: frontend.inboundPort,
                    certificateIds: frontend.certificateIds.map(bareId),
                })),
                certificates: certificates.map((certificate) => ({
                    id: certificate.id,
                    name: certificate.name,
                    status: certificate.status,
                    statusDetails: certificate.statusDetails,
                    commonName: certificate.commonName,
                    subjectAlternativeNames: certificate.subjectAlternativeName,
                    notValidBefore: certificate.notValidBefore?.toISOString(),
                    notValidAfter: certificate.notValidAfter?.toISOString(),
                })),
            };
        }),
    );
    return { networks, loadBalancers };
}

async function cloudflareZoneId(client: Cloudflare, zone: { id?: string; name?: string }): Promise<string> {
    if (zone.id !== undefined) {
        return zone.id;
    }
    const ids: string[] = [];
    for await (const candidate of client.zones.list({ name: zone.name })) {
        if (candidate.name === zone.name) {
            ids.push(candidate.id);
        }
    }
    if (ids.length !== 1) {
        throw new Error(`${ids.length} Cloudflare zones named ${zone.name} are visible to this token (exactly one is needed)`);
    }
    return ids[0];
}

async function aRecords(client: Cloudflare, zoneId: string, fqdn: string): Promise<DnsLookup> {
    const records: { content: string; proxied: boolean }[] = [];
    for await (const record of client.dns.records.list({ zone_id: zoneId, type: "A", name: { exact: fqdn } })) {
        if (record.type === "A" && record.name.toLowerCase() === fqdn) {
            records.push({ content: record.content ?? "", proxied: record.proxied ?? false });
        }
    }
    return { records };
}

export async function observeDns(
    config: StackConfig,
    names: readonly DnsName[],
    credentials: CloudflareCredentials,
): Promise<Record<string, DnsLookup>> {
    const client = new Cloudflare({
        apiToken: credentials.apiToken,
        ...(credentials.baseUrl ? { baseURL: credentials.baseUrl } : {}),
        maxRetries: 3,
        timeout: 30_000,
    });
    const zoneIds = new Map<string, Promise<string>>();
    const zoneIdOf = (environment: string) => {
        const declared = config.environments[environment];
        const key = declared.cloudflareZoneId ?? `name:${declared.cloudflareZone}`;
        let zoneId = zoneIds.get(key);
        if (zoneId === undefined) {
            zoneId = cloudflareZoneId(client, { id: declared.cloudflareZoneId, name: declared.cloudflareZone });
            zoneIds.set(key, zoneId);
        }
        return zoneId;
    };
    const lookups = await Promise.all(
        names.map(async (name): Promise<[string, DnsLookup]> => {
            try {
                return [name.fqdn, await aRecords(client, await zoneIdOf(name.environment), name.fqdn)];
            } catch (error) {
                return [name.fqdn, { error: errorMessage(error) }];
            }
        }),
    );
    return Object.fromEntries(lookups);
}
