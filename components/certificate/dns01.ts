/**
 * DNS-01 on Cloudflare: find the zone owning each challenge name, follow `_acme-challenge` CNAME
 * delegations, create the TXT records, wait until the DNS actually serves them, and delete exactly the
 * records this run created, whatever happens.
 */
import { promises as dns } from "node:dns";
import { isIP } from "node:net";
import Cloudflare from "cloudflare";
import { pollUntil } from "./retry";

export interface CloudflareOptions {
    /** Falls back to CLOUDFLARE_API_TOKEN (read by the SDK). Needs Zone:Read and Zone:DNS:Edit. */
    apiToken?: string;
    /** Falls back to CLOUDFLARE_BASE_URL, then the public API. */
    baseUrl?: string;
    /** SDK retries on 429/5xx/timeouts (default 2). */
    maxRetries?: number;
    /** Per-request timeout (default 30 s). */
    requestTimeoutMs?: number;
}

export interface Dns01Options {
    cloudflare: CloudflareOptions;
    /** TXT record TTL in seconds (default 120, at least 60: Cloudflare's API minimum). */
    ttl?: number;
    /** "ip" or "ip:port" servers to check propagation on, instead of each zone's authoritative nameservers. */
    resolvers?: string[];
    /** Bound on the wait until every server serves every record (default 180 s). */
    propagationTimeoutMs?: number;
    log?: (line: string) => void;
}

/** One challenge to publish: the identifier as the CA names it (wildcards without `*.`) and its TXT value. */
export interface Dns01Challenge {
    identifier: string;
    value: string;
}

const DEFAULT_TXT_TTL = 120;
const MIN_TXT_TTL = 60;
const DEFAULT_PROPAGATION_TIMEOUT_MS = 180_000;
/** Propagation polls: the first look at once, then from 100 ms doubling up to 2 s. */
const PROPAGATION_POLL = { firstDelayMs: 100, maxDelayMs: 2_000 };
const QUERY_TIMEOUT_MS = 2_000;
const DEFAULT_CLOUDFLARE_TIMEOUT_MS = 30_000;
const DEFAULT_CLOUDFLARE_RETRIES = 2;
const MAX_CNAME_HOPS = 8;
const RECORD_COMMENT = "ACME DNS-01 challenge, removed after validation";

interface CloudflareZone {
    id: string;
    name: string;
    nameServers: string[];
}

/** Where a challenge's TXT record goes once CNAME delegations are followed. */
interface TxtTarget {
    recordName: string;
    zone: CloudflareZone;
}

interface TxtPlacement extends TxtTarget {
    challenge: Dns01Challenge;
    /** "_acme-challenge.<identifier>", which differs from `recordName` when delegated by CNAME. */
    challengeName: string;
}

interface CreatedRecord {
    id: string;
    zone: CloudflareZone;
    name: string;
}

/** "_acme-challenge.<identifier>", for a wildcard identifier too. */
export function challengeRecordName(identifier: string): string {
    return `_acme-challenge.${identifier.replace(/^\*\./, "").replace(/\.$/, "").toLowerCase()}`;
}

/** The names a zone owning `name` could have, longest first, down to two labels. */
export function zoneCandidates(name: string): string[] {
    const labels = name.replace(/\.$/, "").toLowerCase().split(".");
    return labels.slice(0, Math.max(0, labels.length - 1)).map((_label, index) => labels.slice(index).join("."));
}

/** A DNS server given as "ip", "ip:port" or "[ipv6]:port", in the form node's Resolver#setServers takes. */
export function parseDnsServer(server: string): string {
    const trimmed = server.trim();
    if (isIP(trimmed) !== 0) {
        return trimmed;
    }
    const bracketed = /^\[([^\]]+)\]:(\d{1,5})$/.exec(trimmed);
    const plain = /^([^:]+):(\d{1,5})$/.exec(trimmed);
    const [, host, port] = bracketed ?? plain ?? [];
    if (host === undefined || isIP(host) === 0 || Number(port) < 1 || Number(port) > 65_535) {
        throw new Error(`DNS resolver "${server}" is not an IP address or ip:port`);
    }
    return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

function dnsServerOrUndefined(entry: string): string | undefined {
    try {
        return parseDnsServer(entry);
    } catch {
        return undefined;
    }
}

export function validateTtl(ttl: number): number {
    if (!Number.isInteger(ttl) || ttl < MIN_TXT_TTL || ttl > 86_400) {
        throw new Error(`DNS-01: TXT TTL must be a whole number of seconds from ${MIN_TXT_TTL} to 86400, got ${ttl}`);
    }
    return ttl;
}

function createCloudflareClient(options: CloudflareOptions): Cloudflare {
    return new Cloudflare({
        apiToken: options.apiToken,
        baseURL: options.baseUrl,
        maxRetries: options.maxRetries ?? DEFAULT_CLOUDFLARE_RETRIES,
        timeout: options.requestTimeoutMs ?? DEFAULT_CLOUDFLARE_TIMEOUT_MS,
    });
}

/** "HTTP 403: Authentication error (code 10000)" from the SDK's error, which otherwise quotes the raw body. */
function cloudflareErrorText(error: unknown): string {
    if (!(error instanceof Cloudflare.APIError) || error.status === undefined) {
        return error instanceof Error ? error.message : String(error);
    }
    const details = error.errors.map(
        (detail) => `${detail.message ?? "no message"}${detail.code === undefined ? "" : ` (code ${detail.code})`}`,
    );
    const text = `HTTP ${error.status}${details.length > 0 ? `: ${details.join("; ")}` : ""}`;
    return error.status === 401 || error.status === 403 ? `${text}; the API token needs Zone:Read and Zone:DNS:Edit on the zone` : text;
}

async function cloudflareCall<T>(what: string, call: () => Promise<T>): Promise<T> {
    try {
        return await call();
    } catch (error) {
        throw new Error(`Cloudflare: ${what} failed: ${cloudflareErrorText(error)}`);
    }
}

/** Zone lookups for one issuance: several names usually share their zones. */
class ZoneFinder {
    private readonly byName = new Map<string, Promise<CloudflareZone | undefined>>();

    constructor(private readonly client: Cloudflare) {}

    /** The longest candidate that is a zone; every candidate is asked at once. */
    async zoneFor(name: string): Promise<CloudflareZone> {
        const candidates = zoneCandidates(name);
        const found = (await Promise.all(candidates.map((candidate) => this.lookUp(candidate)))).find((zone) => zone !== undefined);
        if (found !== undefined) {
            return found;
        }
        throw new Error(`DNS-01: no Cloudflare zone visible to this API token holds ${name} (looked for ${candidates.join(", ")})`);
    }

    private lookUp(name: string): Promise<CloudflareZone | undefined> {
        let found = this.byName.get(name);
        if (found === undefined) {
            found = cloudflareCall(`looking up zone ${name}`, async () => {
                const page = await this.client.zones.list({ name });
                const zone = page.result.find((candidate) => candidate.name.toLowerCase() === name);
                return zone && { id: zone.id, name: zone.name, nameServers: zone.name_servers ?? [] };
            });
            this.byName.set(name, found);
        }
        return found;
    }
}

/** Follows `_acme-challenge` CNAMEs (as lego and certbot do) to the name that must hold the TXT record. */
async function txtTarget(client: Cloudflare, zones: ZoneFinder, challengeName: string): Promise<TxtTarget> {
    const seen: string[] = [];
    let recordName = challengeName;
    for (;;) {
        const zone = await zones.zoneFor(recordName);
        const name = recordName;
        const page = await cloudflareCall(`looking for a CNAME at ${name}`, () =>
            client.dns.records.list({ zone_id: zone.id, type: "CNAME", name: { exact: name } }),
        );
        const cname = page.result.find((record) => record.type === "CNAME" && record.name.toLowerCase() === name);
        if (cname?.content === undefined) {
            return { recordName, zone };
        }
        seen.push(recordName);
        recordName = cname.content.replace(/\.$/, "").toLowerCase();
        if (seen.includes(recordName) || seen.length > MAX_CNAME_HOPS) {
            throw new Error(`DNS-01: CNAME loop or chain too long from ${seen[0]}: ${[...seen, recordName].join(" -> ")}`);
        }
    }
}

/** Where each challenge's TXT record goes; a wildcard and its base name share one lookup. */
function placeChallenges(client: Cloudflare, challenges: Dns01Challenge[]): Promise<TxtPlacement[]> {
    const zones = new ZoneFinder(client);
    const targets = new Map<string, Promise<TxtTarget>>();
    return Promise.all(
        challenges.map(async (challenge) => {
            const challengeName = challengeRecordName(challenge.identifier);
            let target = targets.get(challengeName);
            if (target === undefined) {
                target = txtTarget(client, zones, challengeName);
                targets.set(challengeName, target);
            }
            return { challenge, challengeName, ...(await target) };
        }),
    );
}

/**
 * Publishes every challenge's TXT record, waits until the DNS serves all of them, runs `whilePublished`
 * (tell the CA, wait for validation), then deletes exactly the records it created: on success, on any
 * failure, and when creating a later record fails. Deletion failures are logged, not thrown, so they
 * never hide the outcome of the issuance.
 */
export async function withDns01Records<T>(
    challenges: Dns01Challenge[],
    options: Dns01Options,
    whilePublished: () => Promise<T>,
): Promise<T> {
    const log = options.log ?? (() => undefined);
    const ttl = validateTtl(options.ttl ?? DEFAULT_TXT_TTL);
    const resolvers = options.resolvers?.map(parseDnsServer);
    const client = createCloudflareClient(options.cloudflare);
    const created: CreatedRecord[] = [];
    try {
        const placements = await placeChallenges(client, challenges);
        for (const placement of placements) {
            const delegated = placement.recordName !== placement.challengeName;
            log(
                `DNS-01: creating TXT ${placement.recordName} in zone ${placement.zone.name}` +
                    (delegated ? ` (CNAME from ${placement.challengeName})` : ""),
            );
            const record = await cloudflareCall(`creating TXT ${placement.recordName} in zone ${placement.zone.name}`, () =>
                client.dns.records.create({
                    zone_id: placement.zone.id,
                    type: "TXT",
                    name: placement.recordName,
                    content: placement.challenge.value,
                    ttl,
                    comment: RECORD_COMMENT,
                }),
            ).catch(async (error: unknown) => {
                // A create whose answer was lost (timeout, reset, 5xx after the write) may still have made the
                // record. Its value is this order's one-time token, so a record carrying it is ours to delete.
                created.push(...(await recordsCarrying(client, placement).catch(() => [])));
                throw error;
            });
            created.push({ id: record.id, zone: placement.zone, name: placement.recordName });
        }
        await waitForPropagation(placements, resolvers, options, log);
        return await whilePublished();
    } finally {
        await deleteRecords(client, created, log);
    }
}

async function recordsCarrying(client: Cloudflare, placement: TxtPlacement): Promise<CreatedRecord[]> {
    const found = await client.dns.records.list({
        zone_id: placement.zone.id,
        type: "TXT",
        name: { exact: placement.recordName },
        content: { exact: placement.challenge.value },
    });
    return found.result.map((record) => ({ id: record.id, zone: placement.zone, name: placement.recordName }));
}

async function deleteRecords(client: Cloudflare, records: CreatedRecord[], log: (line: string) => void): Promise<void> {
    const results = await Promise.allSettled(records.map((record) => client.dns.records.delete(record.id, { zone_id: record.zone.id })));
    results.forEach((result, index) => {
        const record = records[index];
        log(
            result.status === "fulfilled"
                ? `DNS-01: deleted TXT ${record.name} (${record.id})`
                : `DNS-01: could not delete TXT ${record.name} (record ${record.id} in zone ${record.zone.name}): ` +
                      `${cloudflareErrorText(result.reason)}; delete it by hand`,
        );
    });
}

/** One name server to ask, with the label used in messages. */
interface DnsServer {
    label: string;
    address: string;
}

async function serversFor(zone: CloudflareZone, resolvers: string[] | undefined): Promise<DnsServer[]> {
    if (resolvers !== undefined && resolvers.length > 0) {
        return resolvers.map((address) => ({ label: address, address }));
    }
    if (zone.nameServers.length === 0) {
        throw new Error(`DNS-01: Cloudflare lists no name servers for zone ${zone.name}; set dnsResolvers to check propagation`);
    }
    const lists = await Promise.all(
        zone.nameServers.map(async (nameServer) => {
            const literal = dnsServerOrUndefined(nameServer);
            if (literal !== undefined) {
                return [{ label: literal, address: literal }];
            }
            const addresses = await new dns.Resolver({ timeout: QUERY_TIMEOUT_MS, tries: 2 })
                .resolve4(nameServer)
                .catch((error: unknown) => {
                    throw new Error(`DNS-01: cannot resolve name server ${nameServer} of zone ${zone.name}: ${dnsErrorText(error)}`);
                });
            return addresses.map((address) => ({ label: `${nameServer} (${address})`, address }));
        }),
    );
    return lists.flat();
}

type TxtAnswer = { ok: true } | { ok: false; saw: string };

async function askTxt(server: DnsServer, name: string, value: string): Promise<TxtAnswer> {
    // A resolver of our own per query: never the process-wide one, never its cache or its servers.
    const resolver = new dns.Resolver({ timeout: QUERY_TIMEOUT_MS, tries: 1 });
    resolver.setServers([server.address]);
    try {
        const values = (await resolver.resolveTxt(name)).map((chunks) => chunks.join(""));
        return values.includes(value) ? { ok: true } : { ok: false, saw: `answered ${JSON.stringify(values)}` };
    } catch (error) {
        return { ok: false, saw: dnsErrorText(error) };
    }
}

function dnsErrorText(error: unknown): string {
    const code = (error as { code?: unknown } | undefined)?.code;
    switch (code) {
        case dns.NODATA:
        case dns.NOTFOUND:
            return "answered no TXT record";
        case dns.TIMEOUT:
        case dns.CONNREFUSED:
            return `gave no answer (${String(code)})`;
        default:
            return error instanceof Error ? error.message : String(error);
    }
}

async function waitForPropagation(
    placements: TxtPlacement[],
    resolvers: string[] | undefined,
    options: Dns01Options,
    log: (line: string) => void,
): Promise<void> {
    const timeoutMs = options.propagationTimeoutMs ?? DEFAULT_PROPAGATION_TIMEOUT_MS;
    let pending = (
        await Promise.all(
            placements.map(async (placement) =>
                (await serversFor(placement.zone, resolvers)).map((server) => ({ placement, server, saw: "not asked yet" })),
            ),
        )
    ).flat();
    log(`DNS-01: waiting for ${placements.length} TXT record(s) on ${new Set(pending.map((check) => check.server.label)).size} server(s)`);
    const outcome = await pollUntil({ timeoutMs, ...PROPAGATION_POLL }, async () => {
        const answers = await Promise.all(
            pending.map((check) => askTxt(check.server, check.placement.recordName, check.placement.challenge.value)),
        );
        pending = pending.flatMap((check, index) => {
            const answer = answers[index];
            return answer.ok ? [] : [{ ...check, saw: answer.saw }];
        });
        return pending.length === 0 ? { done: true, value: undefined } : { done: false };
    });
    if (!outcome.done) {
        throw new Error(propagationTimeoutMessage(pending, timeoutMs));
    }
    log("DNS-01: every server serves every TXT record");
}

function propagationTimeoutMessage(pending: { placement: TxtPlacement; server: DnsServer; saw: string }[], timeoutMs: number): string {
    const byName = new Map<string, string[]>();
    for (const check of pending) {
        const lines = byName.get(check.placement.recordName) ?? [];
        lines.push(`${check.server.label} ${check.saw}`);
        byName.set(check.placement.recordName, lines);
    }
    const details = [...byName].map(([name, lines]) => `TXT ${name}: ${lines.join("; ")}`).join(" | ");
    return `DNS-01: TXT records not visible after ${Math.round(timeoutMs / 1000)} s: ${details}`;
}
