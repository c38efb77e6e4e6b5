/**
 * A local, strict stand-in for the Cloudflare API v4 zones + DNS records subset, for the official
 * `cloudflare` SDK (v7) pointed at it with `baseURL: server.baseUrl`.
 *
 * Strict like the real API: `Authorization: Bearer <token>` on every call; the
 * `{success, errors, messages, result, result_info}` envelope; TTL 1 (auto) or 60..86400;
 * relative names are completed with the zone (`www` -> `www.example.com`, and so is a name from
 * another zone: `x.other.org` -> `x.other.org.example.com`); identical records are refused;
 * only A/AAAA/CNAME can be proxied. TXT content is stored exactly as sent.
 *
 * With `challtestsrvManagementUrl`, every TXT or CNAME change under an `_acme-challenge` name is
 * mirrored to pebble-challtestsrv before the API answers, so Pebble sees what Cloudflare would serve.
 */
import { randomBytes } from "node:crypto";
import * as net from "node:net";
import {
    FaultQueue,
    isApiResponse,
    isJsonObject,
    startApiServer,
    type ApiRequest,
    type ApiResponse,
    type FaultRule,
    type RecordedCall,
    type Route,
} from "./api-server";
import { createChalltestsrvClient, type ChalltestsrvClient } from "./challtestsrv";

export const BASE_PATH = "/client/v4";
const DEFAULT_NAME_SERVERS = ["ada.ns.cloudflare.com", "bob.ns.cloudflare.com"];
const PROXIABLE_TYPES = new Set(["A", "AAAA", "CNAME"]);
const SUPPORTED_TYPES = new Set(["A", "AAAA", "CNAME", "TXT", "MX", "NS", "CAA"]);

export interface CloudflareServerOptions {
    /** Default: a fresh random token. */
    apiToken?: string;
    /** pebble-challtestsrv management URL to mirror `_acme-challenge` TXT/CNAME records to. */
    challtestsrvManagementUrl?: string;
}

export interface CloudflareZone {
    id: string;
    name: string;
    nameServers: string[];
}

/** What a create/PUT/PATCH decides for a record: name is the normalized FQDN, no trailing dot. */
export interface RecordFields {
    name: string;
    type: string;
    content: string;
    ttl: number;
    proxied: boolean;
    comment: string | null;
}

export interface CloudflareDnsRecord extends RecordFields {
    id: string;
    zoneId: string;
    createdOn: string;
    modifiedOn: string;
}

export interface CloudflareFault extends FaultRule {
    /** Cloudflare error code; default 971 for 429, 10000 otherwise. */
    code?: number;
    message?: string;
}

export interface LocalCloudflareServer {
    /** http://127.0.0.1:<port>/client/v4: the SDK's `baseURL`. */
    baseUrl: string;
    apiToken: string;
    /** CLOUDFLARE_API_TOKEN and CLOUDFLARE_BASE_URL, which the SDK reads by itself. */
    env: Record<string, string>;
    readonly calls: readonly RecordedCall[];
    callCount(method?: string, pathPattern?: RegExp): number;
    addZone(name: string, options?: { id?: string; nameServers?: string[] }): CloudflareZone;
    /** Snapshot of the records, of one zone or all. */
    records(zoneId?: string): CloudflareDnsRecord[];
    /** The next `times` matching requests fail with this status in Cloudflare's error envelope. */
    failNext(fault: CloudflareFault): void;
    stop(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Envelopes.

function success(result: unknown, resultInfo?: Record<string, number>): ApiResponse {
    return { status: 200, body: { success: true, errors: [], messages: [], result, ...(resultInfo ? { result_info: resultInfo } : {}) } };
}

export function failure(status: number, code: number, message: string, headers?: Record<string, string>): ApiResponse {
    return { status, body: { success: false, errors: [{ code, message }], messages: [], result: null }, headers };
}

function faultResponse(fault: CloudflareFault): ApiResponse {
    const headers = fault.retryAfterSeconds !== undefined ? { "Retry-After": String(fault.retryAfterSeconds) } : undefined;
    const code = fault.code ?? (fault.status === 429 ? 971 : 10000);
    return failure(fault.status, code, fault.message ?? `injected ${fault.status}`, headers);
}

// ---------------------------------------------------------------------------------------------
// Pure rules.

/** Lowercase, no trailing dot, "@" = apex, and completed with the zone when not inside it. */
export function normalizeRecordName(name: string, zoneName: string): string {
    const trimmed = name.trim().toLowerCase().replace(/\.$/, "");
    if (trimmed === "@" || trimmed === "") return zoneName;
    return trimmed === zoneName || trimmed.endsWith(`.${zoneName}`) ? trimmed : `${trimmed}.${zoneName}`;
}

export function ttlIsValid(ttl: unknown): ttl is number {
    return typeof ttl === "number" && Number.isInteger(ttl) && (ttl === 1 || (ttl >= 60 && ttl <= 86400));
}

/** The TXT value a resolver returns for stored content: surrounding quotes are presentation only. */
export function txtValue(content: string): string {
    return content.length >= 2 && content.startsWith('"') && content.endsWith('"') ? content.slice(1, -1) : content;
}

export function isAcmeChallengeName(name: string): boolean {
    return name.split(".")[0] === "_acme-challenge";
}

type FilterOperator = "exact" | "contains" | "startswith" | "endswith";

interface FieldFilter {
    field: "name" | "content";
    operator: FilterOperator;
    value: string;
}

/** `name=x` (legacy exact) and SDK v7's `name.exact=x`, `name.contains=x`, ...; same for content. */
export function fieldFilters(query: URLSearchParams): FieldFilter[] {
    const filters: FieldFilter[] = [];
    for (const field of ["name", "content"] as const) {
        const legacy = query.get(field);
        if (legacy !== null) filters.push({ field, operator: "exact", value: legacy });
        for (const operator of ["exact", "contains", "startswith", "endswith"] as const) {
            const value = query.get(`${field}.${operator}`);
            if (value !== null) filters.push({ field, operator, value });
        }
    }
    return filters;
}

function fieldMatches(record: CloudflareDnsRecord, filter: FieldFilter): boolean {
    const actual = record[filter.field].toLowerCase();
    const wanted = (filter.field === "name" ? filter.value.replace(/\.$/, "") : filter.value).toLowerCase();
    switch (filter.operator) {
        case "exact":
            return actual === wanted;
        case "contains":
            return actual.includes(wanted);
        case "startswith":
            return actual.startsWith(wanted);
        case "endswith":
            return actual.endsWith(wanted);
    }
}

export function recordMatchesQuery(record: CloudflareDnsRecord, query: URLSearchParams): boolean {
    const checks: boolean[] = fieldFilters(query).map((filter) => fieldMatches(record, filter));
    const type = query.get("type");
    if (type !== null) checks.push(record.type === type.toUpperCase());
    const proxied = query.get("proxied");
    if (proxied !== null) checks.push(String(record.proxied) === proxied);
    if (checks.length === 0) return true;
    return query.get("match") === "any" ? checks.some(Boolean) : checks.every(Boolean);
}

type Paged<T> = { ok: true; items: T[]; info: Record<string, number> } | { ok: false; error: ApiResponse };

export function paginate<T>(items: readonly T[], query: URLSearchParams, defaultPerPage: number, maxPerPage: number): Paged<T> {
    const page = Number(query.get("page") ?? "1");
    const perPage = Number(query.get("per_page") ?? String(defaultPerPage));
    if (!Number.isInteger(page) || page < 1) return { ok: false, error: failure(400, 1004, "page must be an integer >= 1") };
    if (!Number.isInteger(perPage) || perPage < 5 || perPage > maxPerPage) {
        return { ok: false, error: failure(400, 1004, `per_page must be between 5 and ${maxPerPage}`) };
    }
    const slice = items.slice((page - 1) * perPage, page * perPage);
    return {
        ok: true,
        items: slice,
        info: { page, per_page: perPage, count: slice.length, total_count: items.length, total_pages: Math.ceil(items.length / perPage) },
    };
}

function randomId(): string {
    return randomBytes(16).toString("hex");
}

// ---------------------------------------------------------------------------------------------

class CloudflareWorld {
    readonly zones = new Map<string, CloudflareZone & { createdOn: string }>();
    readonly dnsRecords = new Map<string, CloudflareDnsRecord>();
    readonly faults = new FaultQueue<CloudflareFault>();
    /** Requests carried out whose answer is replaced by a fault (`afterApplying`). */
    private readonly lostResponses = new WeakMap<ApiRequest, CloudflareFault>();
    /** Mirror operations run one after another so challtestsrv ends up matching the records. */
    private mirrorChain: Promise<void> = Promise.resolve();

    constructor(
        readonly apiToken: string,
        private readonly challtestsrv: ChalltestsrvClient | undefined,
    ) {}

    zoneJson(zone: CloudflareZone & { createdOn: string }): Record<string, unknown> {
        return {
            id: zone.id,
            name: zone.name,
            status: "active",
            paused: false,
            type: "full",
            development_mode: 0,
            name_servers: zone.nameServers,
            original_name_servers: null,
            original_registrar: null,
            original_dnshost: null,
            created_on: zone.createdOn,
            modified_on: zone.createdOn,
            activated_on: zone.createdOn,
            meta: { step: 4, custom_certificate_quota: 0, page_rule_quota: 3, phishing_detected: false },
            owner: { id: null, type: "user", email: null },
            account: { id: "0".repeat(32), name: "Local test account" },
            permissions: ["#dns_records:edit", "#dns_records:read", "#zone:read"],
            plan: {
                id: "0feeeeeeeeeeeeeeeeeeeeeeeeeeeeee",
                name: "Free Website",
                price: 0,
                currency: "USD",
                frequency: "",
                is_subscribed: false,
                can_subscribe: false,
                legacy_id: "free",
                legacy_discount: false,
                externally_managed: false,
            },
        };
    }

    recordJson(record: CloudflareDnsRecord): Record<string, unknown> {
        return {
            id: record.id,
            name: record.name,
            type: record.type,
            content: record.content,
            proxiable: PROXIABLE_TYPES.has(record.type),
            proxied: record.proxied,
            ttl: record.ttl,
            settings: {},
            meta: {},
            comment: record.comment,
            tags: [],
            created_on: record.createdOn,
            modified_on: record.modifiedOn,
        };
    }

    addZone(name: string, options: { id?: string; nameServers?: string[] } = {}): CloudflareZone {
        const zone = {
            id: options.id ?? randomId(),
            name: name.toLowerCase().replace(/\.$/, ""),
            nameServers: options.nameServers ?? DEFAULT_NAME_SERVERS,
            createdOn: new Date().toISOString(),
        };
        this.zones.set(zone.id, zone);
        return { id: zone.id, name: zone.name, nameServers: [...zone.nameServers] };
    }

    snapshot(zoneId?: string): CloudflareDnsRecord[] {
        return [...this.dnsRecords.values()].filter((record) => !zoneId || record.zoneId === zoneId).map((record) => ({ ...record }));
    }

    intercept(request: ApiRequest): ApiResponse | undefined {
        const authorization = request.headers.authorization;
        if (authorization !== `Bearer ${this.apiToken}`) return failure(403, 10000, "Authentication error");
        const fault = this.faults.take(request.method, request.path);
        if (fault?.afterApplying) {
            this.lostResponses.set(request, fault);
            return undefined;
        }
        return fault ? faultResponse(fault) : undefined;
    }

    afterHandling(request: ApiRequest): ApiResponse | undefined {
        const fault = this.lostResponses.get(request);
        return fault ? faultResponse(fault) : undefined;
    }

    findZone(zoneId: string): (CloudflareZone & { createdOn: string }) | ApiResponse {
        return (
            this.zones.get(zoneId) ?? failure(404, 7003, `Could not route to /zones/${zoneId}, perhaps your object identifier is invalid?`)
        );
    }

    findRecord(zoneId: string, recordId: string): CloudflareDnsRecord | ApiResponse {
        const record = this.dnsRecords.get(recordId);
        return record && record.zoneId === zoneId ? record : failure(404, 81044, "Record does not exist.");
    }

    /** Validates a create/PUT body (`base` given for PATCH: absent fields keep their value). */
    recordFields(zone: CloudflareZone, body: unknown, base?: CloudflareDnsRecord): RecordFields | ApiResponse {
        if (!isJsonObject(body)) return failure(400, 9207, "Request body is invalid.");
        const merged = {
            ...(base
                ? { name: base.name, type: base.type, content: base.content, ttl: base.ttl, proxied: base.proxied, comment: base.comment }
                : {}),
            ...body,
        };
        const type = typeof merged.type === "string" ? merged.type.toUpperCase() : "";
        if (!SUPPORTED_TYPES.has(type)) return failure(400, 9004, "DNS record type is invalid.");
        if (typeof merged.name !== "string" || merged.name.trim() === "") return failure(400, 9000, "DNS name is invalid.");
        if (typeof merged.content !== "string" || merged.content === "")
            return failure(400, 9005, `Content for ${type} record is invalid.`);
        const ttl = merged.ttl ?? 1;
        if (!ttlIsValid(ttl)) return failure(400, 9021, "Invalid TTL. Must be between 60 and 86400 seconds, or 1 for Automatic.");
        const proxied = merged.proxied ?? false;
        if (typeof proxied !== "boolean") return failure(400, 9003, "Invalid 'proxied' value, must be a boolean.");
        if (proxied && !PROXIABLE_TYPES.has(type)) return failure(400, 9004, `${type} records cannot be proxied.`);
        if (type === "A" && !net.isIPv4(merged.content)) return failure(400, 9005, "Content for A record must be a valid IPv4 address.");
        if (type === "AAAA" && !net.isIPv6(merged.content))
            return failure(400, 9005, "Content for AAAA record must be a valid IPv6 address.");
        const comment = merged.comment ?? null;
        if (comment !== null && typeof comment !== "string") return failure(400, 9101, "Comment must be a string.");
        const content = type === "CNAME" ? merged.content.toLowerCase().replace(/\.$/, "") : merged.content;
        return { name: normalizeRecordName(merged.name, zone.name), type, content, ttl, proxied, comment };
    }

    /** Identical records and CNAME exclusivity, as Cloudflare enforces them. */
    conflict(zoneId: string, fields: RecordFields, selfId?: string): ApiResponse | undefined {
        const sameName = [...this.dnsRecords.values()].filter(
            (other) => other.zoneId === zoneId && other.id !== selfId && other.name === fields.name,
        );
        if (sameName.some((other) => other.type === fields.type && other.content === fields.content)) {
            return failure(400, 81058, "An identical record already exists.");
        }
        if (fields.type === "CNAME" && sameName.length > 0)
            return failure(400, 81053, "An A, AAAA, or CNAME record with that host already exists.");
        if (sameName.some((other) => other.type === "CNAME")) return failure(400, 81054, "A CNAME record with that host already exists.");
        return undefined;
    }

    /** Re-creates challtestsrv's view of a host from the records: challtestsrv's clear removes all values. */
    mirror(names: string[]): Promise<void> {
        const client = this.challtestsrv;
        const challengeNames = [...new Set(names)].filter(isAcmeChallengeName);
        if (!client || challengeNames.length === 0) return Promise.resolve();
        const run = this.mirrorChain.then(async () => {
            for (const name of challengeNames) {
                await client.clearTxt(name);
                await client.clearCname(name);
                for (const record of this.dnsRecords.values()) {
                    if (record.name !== name) continue;
                    if (record.type === "TXT") await client.setTxt(name, txtValue(record.content));
                    if (record.type === "CNAME") await client.setCname(name, record.content);
                }
            }
        });
        // A failed mirror must fail this request, not every later one.
        this.mirrorChain = run.catch(() => undefined);
        return run;
    }

    async createRecord(zoneId: string, body: unknown): Promise<ApiResponse> {
        const zone = this.findZone(zoneId);
        if (isApiResponse(zone)) return zone;
        const fields = this.recordFields(zone, body);
        if (isApiResponse(fields)) return fields;
        const conflict = this.conflict(zone.id, fields);
        if (conflict) return conflict;
        const createdOn = new Date().toISOString();
        const record: CloudflareDnsRecord = { id: randomId(), zoneId: zone.id, ...fields, createdOn, modifiedOn: createdOn };
        this.dnsRecords.set(record.id, record);
        await this.mirror([record.name]);
        return success(this.recordJson(record));
    }

    async changeRecord(zoneId: string, recordId: string, body: unknown, mode: "replace" | "patch"): Promise<ApiResponse> {
        const zone = this.findZone(zoneId);
        if (isApiResponse(zone)) return zone;
        const record = this.findRecord(zone.id, recordId);
        if (isApiResponse(record)) return record;
        const fields = this.recordFields(zone, body, mode === "patch" ? record : undefined);
        if (isApiResponse(fields)) return fields;
        const conflict = this.conflict(zone.id, fields, record.id);
        if (conflict) return conflict;
        const previousName = record.name;
        Object.assign(record, fields, { modifiedOn: new Date().toISOString() });
        await this.mirror([previousName, record.name]);
        return success(this.recordJson(record));
    }

    async deleteRecord(zoneId: string, recordId: string): Promise<ApiResponse> {
        const zone = this.findZone(zoneId);
        if (isApiResponse(zone)) return zone;
        const record = this.findRecord(zone.id, recordId);
        if (isApiResponse(record)) return record;
        this.dnsRecords.delete(record.id);
        await this.mirror([record.name]);
        return success({ id: record.id });
    }

    listRecords(zoneId: string, query: URLSearchParams): ApiResponse {
        const zone = this.findZone(zoneId);
        if (isApiResponse(zone)) return zone;
        const matching = [...this.dnsRecords.values()].filter((record) => record.zoneId === zone.id && recordMatchesQuery(record, query));
        const order = query.get("order") as keyof CloudflareDnsRecord | null;
        if (order !== null && !["type", "name", "content", "ttl", "proxied"].includes(order)) return failure(400, 1004, "order is invalid");
        const sorted =
            order === null
                ? matching
                : [...matching].sort((a, b) => String(a[order]).localeCompare(String(b[order]), undefined, { numeric: true }));
        if (query.get("direction") === "desc") sorted.reverse();
        const page = paginate(sorted, query, 100, 5_000_000);
        if (!page.ok) return page.error;
        return success(
            page.items.map((record) => this.recordJson(record)),
            page.info,
        );
    }

    listZones(query: URLSearchParams): ApiResponse {
        const name = query.get("name")?.toLowerCase();
        const matching = [...this.zones.values()].filter((zone) => name === undefined || zone.name === name);
        const page = paginate(matching, query, 20, 50);
        if (!page.ok) return page.error;
        return success(
            page.items.map((zone) => this.zoneJson(zone)),
            page.info,
        );
    }

    routes(): Route[] {
        const at = (suffix: string) => new RegExp(`^${BASE_PATH}/${suffix}$`);
        const record = "zones/(?<zone>[^/]+)/dns_records/(?<record>[^/]+)";
        return [
            { method: "GET", pattern: at("zones"), handle: ({ query }) => this.listZones(query) },
            {
                method: "GET",
                pattern: at("zones/(?<zone>[^/]+)"),
                handle: ({ params }) => {
                    const zone = this.findZone(params.zone ?? "");
                    return isApiResponse(zone) ? zone : success(this.zoneJson(zone));
                },
            },
            {
                method: "GET",
                pattern: at("zones/(?<zone>[^/]+)/dns_records"),
                handle: ({ params, query }) => this.listRecords(params.zone ?? "", query),
            },
            {
                method: "POST",
                pattern: at("zones/(?<zone>[^/]+)/dns_records"),
                handle: ({ params, body }) => this.createRecord(params.zone ?? "", body),
            },
            {
                method: "GET",
                pattern: at(record),
                handle: ({ params }) => {
                    const found = this.findRecord(params.zone ?? "", params.record ?? "");
                    return isApiResponse(found) ? found : success(this.recordJson(found));
                },
            },
            {
                method: "PUT",
                pattern: at(record),
                handle: ({ params, body }) => this.changeRecord(params.zone ?? "", params.record ?? "", body, "replace"),
            },
            {
                method: "PATCH",
                pattern: at(record),
                handle: ({ params, body }) => this.changeRecord(params.zone ?? "", params.record ?? "", body, "patch"),
            },
            { method: "DELETE", pattern: at(record), handle: ({ params }) => this.deleteRecord(params.zone ?? "", params.record ?? "") },
        ];
    }
}

export async function startCloudflareServer(options: CloudflareServerOptions = {}): Promise<LocalCloudflareServer> {
    const apiToken = options.apiToken ?? randomBytes(20).toString("base64url");
    const challtestsrv = options.challtestsrvManagementUrl ? createChalltestsrvClient(options.challtestsrvManagementUrl) : undefined;
    const world = new CloudflareWorld(apiToken, challtestsrv);
    const server = await startApiServer({
        routes: world.routes(),
        intercept: (request) => world.intercept(request),
        afterHandling: (request) => world.afterHandling(request),
        notFound: () => failure(404, 7000, "No route for that URI"),
        badJson: () => failure(400, 9207, "Request body is invalid."),
    });
    const baseUrl = `${server.url}${BASE_PATH}`;
    return {
        baseUrl,
        apiToken,
        env: { CLOUDFLARE_API_TOKEN: apiToken, CLOUDFLARE_BASE_URL: baseUrl },
        calls: server.calls,
        callCount: server.callCount,
        addZone: (name, zoneOptions) => world.addZone(name, zoneOptions),
        records: (zoneId) => world.snapshot(zoneId),
        failNext: (fault) => world.faults.add(fault),
        stop: server.stop,
    };
}
