/**
 * A local, strict stand-in for the Scaleway Load Balancer API v1 (zoned) and the IPAM ListIPs
 * call, for the official `@scaleway/sdk-lb` client pointed at it with `apiURL: server.url`.
 *
 * Strict on purpose, so misuse fails here the way it would in production (docs/scaleway-lb.md):
 * X-Auth-Token required; PUT frontend is a full replace with required fields; certificates are
 * parsed for real and start `pending`; a certificate bound to a frontend cannot be deleted;
 * 200 certificates and 8 private networks per LB; list endpoints paginate (default 20 per page).
 * Error bodies follow Scaleway's shapes so the SDK raises its typed errors.
 */
import { randomBytes, randomUUID } from "node:crypto";
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
import { parseCertificateBundle } from "./scaleway-bundle";

export const MAX_CERTIFICATES_PER_LB = 200;
export const MAX_PRIVATE_NETWORKS_PER_LB = 8;
export const CERTIFICATE_IN_USE_MESSAGE = "certificate is used on a frontend";
const DEFAULT_PAGE_SIZE = 20;
const MAX_PAGE_SIZE = 100;

export interface ScalewayServerOptions {
    /** Default: a fresh UUID. Requests must carry it as X-Auth-Token. */
    secretKey?: string;
    /** Default: a fresh `SCW` + 17 characters key (only clients check its format). */
    accessKey?: string;
    projectId?: string;
    defaultZone?: string;
}

export interface ScalewayCredentials {
    accessKey: string;
    secretKey: string;
    projectId: string;
    organizationId: string;
}

export interface PrivateNetworkSeed {
    /** Private Network id (UUID). */
    id: string;
    /** The LB's address in it: "172.16.0.5" or "172.16.0.5/22" (default prefix /22). */
    ip: string;
    /** Name of the network, for lookups by name through the VPC API (`/vpc/v2/.../private-networks?name=`). */
    name?: string;
}

export interface SeedLoadBalancerInput {
    name: string;
    zone?: string;
    id?: string;
    tags?: string[];
    privateNetworks?: PrivateNetworkSeed[];
}

export interface SeedFrontendInput {
    lbId: string;
    name: string;
    inboundPort: number;
    certificateIds?: string[];
    backendName?: string;
    backendPort?: number;
    timeoutClientMs?: number | null;
    enableHttp3?: boolean;
}

export interface ScalewayFault extends FaultRule {
    /** Scaleway error type; by default derived from the status (429 too_many_requests, 409 transient_state). */
    type?: string;
    message?: string;
}

export interface PrivateNetworkAttachmentSnapshot {
    privateNetworkId: string;
    ipAddress: string;
    prefixLength: number;
    ipamId: string;
}

export interface LoadBalancerSnapshot {
    id: string;
    name: string;
    zone: string;
    region: string;
    projectId: string;
    tags: string[];
    privateNetworks: PrivateNetworkAttachmentSnapshot[];
}

export interface FrontendSnapshot {
    id: string;
    lbId: string;
    zone: string;
    name: string;
    inboundPort: number;
    backendId: string;
    timeoutClientMs: number | null;
    certificateIds: string[];
    enableHttp3: boolean;
    connectionRateLimit: number | null;
    enableAccessLogs: boolean;
    updatedAt: string;
}

export type CertificateStatus = "pending" | "ready" | "error";

export interface CertificateSnapshot {
    id: string;
    lbId: string;
    zone: string;
    name: string;
    /** The status the API would show now (reading the snapshot does not count as a GET). */
    status: CertificateStatus;
    statusDetails: string | null;
    commonName: string;
    subjectAlternativeName: string[];
    fingerprint: string;
    notValidBefore: string;
    notValidAfter: string;
    /** The uploaded blob, kept server-side only: the API never returns it. */
    certificateChain: string;
    createdAt: string;
}

export interface ScalewayClientSettings {
    accessKey: string;
    secretKey: string;
    apiURL: string;
    defaultProjectId: string;
    defaultOrganizationId: string;
    defaultZone: string;
    defaultRegion: string;
}

export interface LocalScalewayServer {
    /** http://127.0.0.1:<port>, no trailing slash: the SDK's `apiURL`. */
    url: string;
    credentials: ScalewayCredentials;
    /** Spread into `createClient(...)` from @scaleway/sdk-client. */
    clientSettings: ScalewayClientSettings;
    /** The standard Scaleway tooling variables (SCW_ACCESS_KEY, SCW_SECRET_KEY, SCW_API_URL, ...). */
    env: Record<string, string>;
    readonly calls: readonly RecordedCall[];
    callCount(method?: string, pathPattern?: RegExp): number;
    seedLoadBalancer(input: SeedLoadBalancerInput): LoadBalancerSnapshot;
    /** Creates the frontend and a backend for it. */
    seedFrontend(input: SeedFrontendInput): FrontendSnapshot;
    /** The next `times` requests matching fail with this status and a Scaleway error body. */
    failNext(fault: ScalewayFault): void;
    /** The next `times` (default 1) accepted uploads end in `error` with these status details. */
    failCertificateUploads(statusDetails: string, times?: number): void;
    /** New certificates answer `pending` to their first `gets` GETs (default 1: ready on the 2nd GET). */
    setReadyAfter(gets: number): void;
    /** New certificates also stay `pending` for this long after creation (default 0). */
    setReadyAfterMs(ms: number): void;
    /** What the CCM does on reconcile: sets the frontend's certificate_ids to what the Service says. */
    simulateCcmReconcile(frontendId: string, certificateIds: string[]): FrontendSnapshot;
    state: {
        loadBalancers(): LoadBalancerSnapshot[];
        frontends(lbId?: string): FrontendSnapshot[];
        certificates(lbId?: string): CertificateSnapshot[];
        certificatesByLb(): Record<string, CertificateSnapshot[]>;
    };
    stop(): Promise<void>;
}

interface LoadBalancerRecord {
    id: string;
    name: string;
    zone: string;
    region: string;
    tags: string[];
    createdAt: string;
    updatedAt: string;
    instanceId: string;
    privateNetworks: PrivateNetworkAttachmentRecord[];
}

interface PrivateNetworkAttachmentRecord extends PrivateNetworkAttachmentSnapshot {
    subnetId: string;
    macAddress: string;
    createdAt: string;
}

interface BackendRecord {
    id: string;
    lbId: string;
    name: string;
    forwardPort: number;
    createdAt: string;
}

interface FrontendRecord extends FrontendSnapshot {
    createdAt: string;
}

interface CertificateRecord extends Omit<CertificateSnapshot, "status" | "statusDetails"> {
    updatedAt: string;
    outcome: "ready" | "error";
    failureDetails: string | null;
    pendingGetsLeft: number;
    pendingUntil: number;
}

// ---------------------------------------------------------------------------------------------
// Scaleway error bodies, shaped for @scaleway/sdk-client's parseScalewayError.

type ArgumentReason = "required" | "format" | "constraint";

export function invalidArgument(
    argumentName: string,
    reason: ArgumentReason,
    helpMessage: string,
    message = "invalid argument(s)",
): ApiResponse {
    return {
        status: 400,
        body: { type: "invalid_arguments", message, details: [{ argument_name: argumentName, reason, help_message: helpMessage }] },
    };
}

function notFound(resource: string, resourceId: string): ApiResponse {
    return { status: 404, body: { type: "not_found", message: "resource is not found", resource, resource_id: resourceId } };
}

function deniedAuthentication(reason: "invalid_argument" | "not_found"): ApiResponse {
    return { status: 401, body: { type: "denied_authentication", message: "authentication is denied", method: "api_key", reason } };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function resourceOfPath(path: string): { resource: string; resourceId: string } {
    const ids = path.split("/").filter((segment) => UUID.test(segment));
    const resource = path.includes("/certificates") ? "certificate" : path.includes("/frontends") ? "frontend" : "lb";
    return { resource, resourceId: ids[ids.length - 1] ?? "" };
}

export function faultResponse(fault: ScalewayFault, path: string): ApiResponse {
    const headers: Record<string, string> = fault.retryAfterSeconds !== undefined ? { "Retry-After": String(fault.retryAfterSeconds) } : {};
    const type = fault.type ?? (fault.status === 429 ? "too_many_requests" : fault.status === 409 ? "transient_state" : "unknown_error");
    const body: Record<string, unknown> = { type, message: fault.message ?? `injected ${fault.status} ${type}` };
    if (type === "too_many_requests") {
        body.help_message = "rate limit reached, retry later";
        if (fault.retryAfterSeconds !== undefined) body.reset_seconds = fault.retryAfterSeconds;
    }
    if (type === "transient_state") {
        const { resource, resourceId } = resourceOfPath(path);
        Object.assign(body, { resource, resource_id: resourceId, current_state: "pending" });
    }
    return { status: fault.status, body, headers };
}

// ---------------------------------------------------------------------------------------------
// Small pure helpers.

function now(): string {
    return new Date().toISOString();
}

function regionOfZone(zone: string): string {
    return zone.replace(/-\d+$/, "");
}

function secondsPrecision(date: Date): string {
    return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

function randomAccessKey(): string {
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    return `SCW${[...randomBytes(17)].map((byte) => alphabet[byte % alphabet.length]).join("")}`;
}

function randomMac(): string {
    return ["02", ...[...randomBytes(5)].map((byte) => byte.toString(16).padStart(2, "0"))].join(":");
}

function splitAddress(ip: string): { ipAddress: string; prefixLength: number } {
    const [ipAddress = "", prefix] = ip.split("/");
    return { ipAddress, prefixLength: prefix === undefined ? 22 : Number(prefix) };
}

type Paged<T> = { ok: true; items: T[]; total: number } | { ok: false; error: ApiResponse };

export function paginate<T>(items: readonly T[], query: URLSearchParams): Paged<T> {
    const page = Number(query.get("page") ?? "1");
    const pageSize = Number(query.get("page_size") ?? String(DEFAULT_PAGE_SIZE));
    if (!Number.isInteger(page) || page < 1) return { ok: false, error: invalidArgument("page", "constraint", "must be an integer >= 1") };
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > MAX_PAGE_SIZE) {
        return { ok: false, error: invalidArgument("page_size", "constraint", `must be between 1 and ${MAX_PAGE_SIZE}`) };
    }
    return { ok: true, items: items.slice((page - 1) * pageSize, page * pageSize), total: items.length };
}

function sortByOrder<T extends { name: string; createdAt: string }>(items: T[], orderBy: string | null): T[] | undefined {
    const byCreation = (a: T, b: T) => a.createdAt.localeCompare(b.createdAt);
    const byName = (a: T, b: T) => a.name.localeCompare(b.name);
    switch (orderBy ?? "created_at_asc") {
        case "created_at_asc":
            return [...items].sort(byCreation);
        case "created_at_desc":
            return [...items].sort((a, b) => byCreation(b, a));
        case "name_asc":
            return [...items].sort(byName);
        case "name_desc":
            return [...items].sort((a, b) => byName(b, a));
        default:
            return undefined;
    }
}

/** The list endpoints' common part: `name` filter (substring), `order_by`, pagination, `total_count`. */
function listResponse<T extends { name: string; createdAt: string }>(
    items: T[],
    query: URLSearchParams,
    key: string,
    render: (item: T) => unknown,
): ApiResponse {
    const name = query.get("name");
    const sorted = sortByOrder(
        items.filter((item) => !name || item.name.includes(name)),
        query.get("order_by"),
    );
    if (!sorted) return invalidArgument("order_by", "constraint", "unknown order");
    const page = paginate(sorted, query);
    if (!page.ok) return page.error;
    return { status: 200, body: { [key]: page.items.map(render), total_count: page.total } };
}

/** `timeout_client` is milliseconds on the wire: an integer, or a string of digits. */
export function parseTimeoutMs(value: unknown): number | null | undefined {
    if (value === undefined || value === null) return null;
    if (typeof value === "number" && Number.isInteger(value) && value >= 0) return value;
    if (typeof value === "string" && /^\d+$/.test(value)) return Number(value);
    return undefined;
}

// ---------------------------------------------------------------------------------------------

interface FrontendFields {
    name: string;
    inboundPort: number;
    backendId: string;
    enableHttp3: boolean;
    timeoutClientMs: number | null;
    certificateIds: string[];
    connectionRateLimit: number | null;
    enableAccessLogs: boolean;
}

class ScalewayWorld {
    readonly loadBalancers = new Map<string, LoadBalancerRecord>();
    /** Names of the private networks seeded with one, by id: what the VPC API lists. */
    readonly privateNetworkNames = new Map<string, { name: string; region: string }>();
    readonly backends = new Map<string, BackendRecord>();
    readonly frontends = new Map<string, FrontendRecord>();
    readonly certificates = new Map<string, CertificateRecord>();
    readonly faults = new FaultQueue<ScalewayFault>();
    readyAfterGets = 1;
    readyAfterMs = 0;
    uploadFailures: string[] = [];
    private autoAddressNetworks = new Map<string, { networkIndex: number; nextHost: number }>();

    constructor(
        readonly credentials: ScalewayCredentials,
        readonly defaultZone: string,
    ) {}

    // --- rendering ---------------------------------------------------------------------------

    certificateStatus(certificate: CertificateRecord): CertificateStatus {
        if (certificate.pendingGetsLeft > 0 || Date.now() < certificate.pendingUntil) return "pending";
        return certificate.outcome;
    }

    /** A GET that returns the certificate: the first `readyAfterGets` of them see `pending`. */
    observe(certificate: CertificateRecord): CertificateStatus {
        const status = this.certificateStatus(certificate);
        if (certificate.pendingGetsLeft > 0) certificate.pendingGetsLeft -= 1;
        return status;
    }

    lbJson(lb: LoadBalancerRecord): Record<string, unknown> {
        const frontends = [...this.frontends.values()].filter((frontend) => frontend.lbId === lb.id);
        const backends = [...this.backends.values()].filter((backend) => backend.lbId === lb.id);
        return {
            id: lb.id,
            name: lb.name,
            description: "",
            status: "ready",
            instances: [
                {
                    id: lb.instanceId,
                    status: "ready",
                    ip_address: "",
                    created_at: lb.createdAt,
                    updated_at: lb.updatedAt,
                    region: lb.region,
                    zone: lb.zone,
                },
            ],
            organization_id: this.credentials.organizationId,
            project_id: this.credentials.projectId,
            // Private LB: no public flexible IP.
            ip: [],
            tags: lb.tags,
            frontend_count: frontends.length,
            backend_count: backends.length,
            type: "lb-s",
            subscriber: null,
            ssl_compatibility_level: "ssl_compatibility_level_intermediate",
            created_at: lb.createdAt,
            updated_at: lb.updatedAt,
            private_network_count: lb.privateNetworks.length,
            route_count: 0,
            region: lb.region,
            zone: lb.zone,
        };
    }

    backendJson(backend: BackendRecord): Record<string, unknown> {
        const lb = this.loadBalancers.get(backend.lbId);
        return {
            id: backend.id,
            name: backend.name,
            forward_protocol: "tcp",
            forward_port: backend.forwardPort,
            forward_port_algorithm: "roundrobin",
            sticky_sessions: "none",
            sticky_sessions_cookie_name: "",
            health_check: {
                port: backend.forwardPort,
                check_delay: 5000,
                check_timeout: 5000,
                check_max_retries: 5,
                check_send_proxy: false,
                transient_check_delay: null,
                tcp_config: {},
            },
            pool: [],
            lb: lb ? this.lbJson(lb) : null,
            send_proxy_v2: false,
            timeout_server: 10000,
            timeout_connect: 600000,
            timeout_tunnel: 600000,
            on_marked_down_action: "on_marked_down_action_none",
            proxy_protocol: "proxy_protocol_none",
            created_at: backend.createdAt,
            updated_at: backend.createdAt,
            failover_host: null,
            ssl_bridging: false,
            ignore_ssl_server_verify: null,
            redispatch_attempt_count: 0,
            max_retries: 3,
            max_connections: null,
            timeout_queue: null,
        };
    }

    certificateJson(certificate: CertificateRecord, status: CertificateStatus): Record<string, unknown> {
        const lb = this.loadBalancers.get(certificate.lbId);
        return {
            id: certificate.id,
            type: "custom",
            status,
            common_name: certificate.commonName,
            subject_alternative_name: certificate.subjectAlternativeName,
            fingerprint: certificate.fingerprint,
            not_valid_before: certificate.notValidBefore,
            not_valid_after: certificate.notValidAfter,
            lb: lb ? this.lbJson(lb) : null,
            name: certificate.name,
            created_at: certificate.createdAt,
            updated_at: certificate.updatedAt,
            status_details: status === "error" ? certificate.failureDetails : null,
        };
    }

    frontendJson(frontend: FrontendRecord): Record<string, unknown> {
        const lb = this.loadBalancers.get(frontend.lbId);
        const backend = this.backends.get(frontend.backendId);
        const firstCertificate = this.certificates.get(frontend.certificateIds[0] ?? "");
        return {
            id: frontend.id,
            name: frontend.name,
            inbound_port: frontend.inboundPort,
            backend: backend ? this.backendJson(backend) : null,
            lb: lb ? this.lbJson(lb) : null,
            timeout_client: frontend.timeoutClientMs,
            // Deprecated single certificate: the first of certificate_ids.
            certificate: firstCertificate ? this.certificateJson(firstCertificate, this.certificateStatus(firstCertificate)) : null,
            certificate_ids: frontend.certificateIds,
            created_at: frontend.createdAt,
            updated_at: frontend.updatedAt,
            enable_http3: frontend.enableHttp3,
            connection_rate_limit: frontend.connectionRateLimit,
            enable_access_logs: frontend.enableAccessLogs,
        };
    }

    privateNetworkJson(lb: LoadBalancerRecord, attachment: PrivateNetworkAttachmentRecord): Record<string, unknown> {
        return {
            lb: this.lbJson(lb),
            ipam_ids: [attachment.ipamId],
            static_config: null,
            dhcp_config: null,
            ipam_config: null,
            private_network_id: attachment.privateNetworkId,
            status: "ready",
            created_at: attachment.createdAt,
            updated_at: attachment.createdAt,
        };
    }

    ipamJson(lb: LoadBalancerRecord, attachment: PrivateNetworkAttachmentRecord): Record<string, unknown> {
        return {
            id: attachment.ipamId,
            address: `${attachment.ipAddress}/${attachment.prefixLength}`,
            project_id: this.credentials.projectId,
            is_ipv6: false,
            created_at: attachment.createdAt,
            updated_at: attachment.createdAt,
            source: { private_network_id: attachment.privateNetworkId, subnet_id: attachment.subnetId },
            resource: { type: "lb_server", id: lb.id, mac_address: attachment.macAddress, name: lb.name },
            tags: [],
            reverses: [],
            region: lb.region,
            zone: lb.zone,
        };
    }

    // --- snapshots -----------------------------------------------------------------------------

    lbSnapshot(lb: LoadBalancerRecord): LoadBalancerSnapshot {
        return {
            id: lb.id,
            name: lb.name,
            zone: lb.zone,
            region: lb.region,
            projectId: this.credentials.projectId,
            tags: [...lb.tags],
            privateNetworks: lb.privateNetworks.map(({ privateNetworkId, ipAddress, prefixLength, ipamId }) => ({
                privateNetworkId,
                ipAddress,
                prefixLength,
                ipamId,
            })),
        };
    }

    frontendSnapshot(frontend: FrontendRecord): FrontendSnapshot {
        const { createdAt: _createdAt, ...snapshot } = frontend;
        return { ...snapshot, certificateIds: [...frontend.certificateIds] };
    }

    certificateSnapshot(certificate: CertificateRecord): CertificateSnapshot {
        const status = this.certificateStatus(certificate);
        return {
            id: certificate.id,
            lbId: certificate.lbId,
            zone: certificate.zone,
            name: certificate.name,
            status,
            statusDetails: status === "error" ? certificate.failureDetails : null,
            commonName: certificate.commonName,
            subjectAlternativeName: [...certificate.subjectAlternativeName],
            fingerprint: certificate.fingerprint,
            notValidBefore: certificate.notValidBefore,
            notValidAfter: certificate.notValidAfter,
            certificateChain: certificate.certificateChain,
            createdAt: certificate.createdAt,
        };
    }

    // --- seeding -------------------------------------------------------------------------------

    addAttachment(
        lb: LoadBalancerRecord,
        privateNetworkId: string,
        ipAddress: string,
        prefixLength: number,
        ipamId: string = randomUUID(),
    ): PrivateNetworkAttachmentRecord {
        const attachment = {
            privateNetworkId,
            ipAddress,
            prefixLength,
            ipamId,
            subnetId: randomUUID(),
            macAddress: randomMac(),
            createdAt: now(),
        };
        lb.privateNetworks.push(attachment);
        return attachment;
    }

    /** 172.16.<4k>.<n>/22, one /22 per Private Network the server had to invent addresses for. */
    nextAutoAddress(privateNetworkId: string): string {
        let pool = this.autoAddressNetworks.get(privateNetworkId);
        if (!pool) {
            pool = { networkIndex: this.autoAddressNetworks.size, nextHost: 2 };
            this.autoAddressNetworks.set(privateNetworkId, pool);
        }
        return `172.16.${pool.networkIndex * 4}.${pool.nextHost++}`;
    }

    seedLoadBalancer(input: SeedLoadBalancerInput): LoadBalancerSnapshot {
        const zone = input.zone ?? this.defaultZone;
        const createdAt = now();
        const lb: LoadBalancerRecord = {
            id: input.id ?? randomUUID(),
            name: input.name,
            zone,
            region: regionOfZone(zone),
            tags: [...(input.tags ?? [])],
            createdAt,
            updatedAt: createdAt,
            instanceId: randomUUID(),
            privateNetworks: [],
        };
        if ((input.privateNetworks ?? []).length > MAX_PRIVATE_NETWORKS_PER_LB) {
            throw new Error(`a Load Balancer holds at most ${MAX_PRIVATE_NETWORKS_PER_LB} Private Networks`);
        }
        for (const network of input.privateNetworks ?? []) {
            const { ipAddress, prefixLength } = splitAddress(network.ip);
            this.addAttachment(lb, network.id, ipAddress, prefixLength);
            if (network.name !== undefined) {
                this.privateNetworkNames.set(network.id, { name: network.name, region: lb.region });
            }
        }
        this.loadBalancers.set(lb.id, lb);
        return this.lbSnapshot(lb);
    }

    seedFrontend(input: SeedFrontendInput): FrontendSnapshot {
        const lb = this.loadBalancers.get(input.lbId);
        if (!lb) throw new Error(`seedFrontend: no load balancer ${input.lbId}`);
        for (const certificateId of input.certificateIds ?? []) {
            if (this.certificates.get(certificateId)?.lbId !== lb.id)
                throw new Error(`seedFrontend: no certificate ${certificateId} on ${lb.id}`);
        }
        const createdAt = now();
        const backend: BackendRecord = {
            id: randomUUID(),
            lbId: lb.id,
            name: input.backendName ?? `${input.name}-backend`,
            forwardPort: input.backendPort ?? 30080,
            createdAt,
        };
        this.backends.set(backend.id, backend);
        const frontend: FrontendRecord = {
            id: randomUUID(),
            lbId: lb.id,
            zone: lb.zone,
            name: input.name,
            inboundPort: input.inboundPort,
            backendId: backend.id,
            timeoutClientMs: input.timeoutClientMs === undefined ? 600000 : input.timeoutClientMs,
            certificateIds: [...(input.certificateIds ?? [])],
            enableHttp3: input.enableHttp3 ?? false,
            connectionRateLimit: null,
            enableAccessLogs: false,
            createdAt,
            updatedAt: createdAt,
        };
        this.frontends.set(frontend.id, frontend);
        return this.frontendSnapshot(frontend);
    }

    simulateCcmReconcile(frontendId: string, certificateIds: string[]): FrontendSnapshot {
        const frontend = this.frontends.get(frontendId);
        if (!frontend) throw new Error(`simulateCcmReconcile: no frontend ${frontendId}`);
        const missing = certificateIds.find((id) => this.certificates.get(id)?.lbId !== frontend.lbId);
        if (missing) throw new Error(`simulateCcmReconcile: certificate ${missing} is not on load balancer ${frontend.lbId}`);
        frontend.certificateIds = [...certificateIds];
        frontend.updatedAt = now();
        return this.frontendSnapshot(frontend);
    }

    // --- lookups scoped to the zone in the path ---------------------------------------------

    findLb(zone: string, id: string): LoadBalancerRecord | ApiResponse {
        if (!UUID.test(id)) return invalidArgument("lb_id", "format", "must be a UUID");
        const lb = this.loadBalancers.get(id);
        return lb && lb.zone === zone ? lb : notFound("lb", id);
    }

    findFrontend(zone: string, id: string): FrontendRecord | ApiResponse {
        if (!UUID.test(id)) return invalidArgument("frontend_id", "format", "must be a UUID");
        const frontend = this.frontends.get(id);
        return frontend && frontend.zone === zone ? frontend : notFound("frontend", id);
    }

    findCertificate(zone: string, id: string): CertificateRecord | ApiResponse {
        if (!UUID.test(id)) return invalidArgument("certificate_id", "format", "must be a UUID");
        const certificate = this.certificates.get(id);
        return certificate && certificate.zone === zone ? certificate : notFound("certificate", id);
    }

    // --- frontends -----------------------------------------------------------------------------

    /** Validates a create/replace body. On PUT every field is replaced: what is absent resets. */
    frontendFields(lb: LoadBalancerRecord, body: unknown, mode: "create" | "replace", selfId?: string): FrontendFields | ApiResponse {
        if (!isJsonObject(body)) return invalidArgument("body", "required", "a JSON object is required");
        for (const field of mode === "replace" ? ["name", "inbound_port", "backend_id", "enable_http3"] : ["inbound_port", "backend_id"]) {
            if (body[field] === undefined || body[field] === null) return invalidArgument(field, "required", `${field} is required`);
        }
        const name = body.name ?? "";
        if (typeof name !== "string" || (mode === "replace" && name === ""))
            return invalidArgument("name", "format", "must be a non-empty string");
        const inboundPort = body.inbound_port;
        if (typeof inboundPort !== "number" || !Number.isInteger(inboundPort) || inboundPort < 1 || inboundPort > 65535) {
            return invalidArgument("inbound_port", "constraint", "must be an integer between 1 and 65535");
        }
        const backendId = body.backend_id;
        if (typeof backendId !== "string" || this.backends.get(backendId)?.lbId !== lb.id) {
            return invalidArgument("backend_id", "constraint", "backend not found on this Load Balancer");
        }
        const enableHttp3 = body.enable_http3 ?? false;
        if (typeof enableHttp3 !== "boolean") return invalidArgument("enable_http3", "format", "must be a boolean");
        const timeoutClientMs = parseTimeoutMs(body.timeout_client);
        if (timeoutClientMs === undefined)
            return invalidArgument("timeout_client", "format", "must be a duration in milliseconds (integer)");
        const certificateIds = this.certificateIdsOf(body);
        if (!Array.isArray(certificateIds)) return certificateIds;
        const unknown = certificateIds.find((id) => this.certificates.get(id)?.lbId !== lb.id);
        if (unknown !== undefined)
            return invalidArgument("certificate_ids", "constraint", `certificate ${unknown} not found on this Load Balancer`);
        const portTaken = [...this.frontends.values()].some(
            (other) => other.lbId === lb.id && other.id !== selfId && other.inboundPort === inboundPort,
        );
        if (portTaken) return invalidArgument("inbound_port", "constraint", `another frontend already listens on port ${inboundPort}`);
        const connectionRateLimit = body.connection_rate_limit ?? null;
        if (connectionRateLimit !== null && typeof connectionRateLimit !== "number")
            return invalidArgument("connection_rate_limit", "format", "must be an integer");
        const enableAccessLogs = body.enable_access_logs ?? false;
        if (typeof enableAccessLogs !== "boolean") return invalidArgument("enable_access_logs", "format", "must be a boolean");
        return { name, inboundPort, backendId, enableHttp3, timeoutClientMs, certificateIds, connectionRateLimit, enableAccessLogs };
    }

    certificateIdsOf(body: Record<string, unknown>): string[] | ApiResponse {
        const ids: unknown = body.certificate_ids ?? (typeof body.certificate_id === "string" ? [body.certificate_id] : []);
        if (!Array.isArray(ids) || !ids.every((id): id is string => typeof id === "string"))
            return invalidArgument("certificate_ids", "format", "must be a list of ids");
        if (ids.some((id) => !UUID.test(id)))
            return invalidArgument("certificate_ids", "format", "each id must be a UUID (without zone prefix)");
        return ids;
    }

    createFrontend(zone: string, lbId: string, body: unknown): ApiResponse {
        const lb = this.findLb(zone, lbId);
        if (isApiResponse(lb)) return lb;
        const fields = this.frontendFields(lb, body, "create");
        if (isApiResponse(fields)) return fields;
        const createdAt = now();
        const frontend: FrontendRecord = {
            id: randomUUID(),
            lbId: lb.id,
            zone: lb.zone,
            ...fields,
            name: fields.name || `lbf-${randomUUID().slice(0, 8)}`,
            createdAt,
            updatedAt: createdAt,
        };
        this.frontends.set(frontend.id, frontend);
        return { status: 200, body: this.frontendJson(frontend) };
    }

    replaceFrontend(zone: string, frontendId: string, body: unknown): ApiResponse {
        const frontend = this.findFrontend(zone, frontendId);
        if (isApiResponse(frontend)) return frontend;
        const lb = this.loadBalancers.get(frontend.lbId) as LoadBalancerRecord;
        const fields = this.frontendFields(lb, body, "replace", frontend.id);
        if (isApiResponse(fields)) return fields;
        Object.assign(frontend, fields, { updatedAt: now() });
        return { status: 200, body: this.frontendJson(frontend) };
    }

    listFrontends(zone: string, lbId: string, query: URLSearchParams): ApiResponse {
        const lb = this.findLb(zone, lbId);
        if (isApiResponse(lb)) return lb;
        const onLb = [...this.frontends.values()].filter((frontend) => frontend.lbId === lb.id);
        return listResponse(onLb, query, "frontends", (frontend) => this.frontendJson(frontend));
    }

    // --- certificates --------------------------------------------------------------------------

    createCertificate(zone: string, lbId: string, body: unknown): ApiResponse {
        const lb = this.findLb(zone, lbId);
        if (isApiResponse(lb)) return lb;
        if (!isJsonObject(body)) return invalidArgument("body", "required", "a JSON object is required");
        if (typeof body.name !== "string" || body.name === "") return invalidArgument("name", "required", "name is required");
        if (body.letsencrypt !== undefined) {
            return invalidArgument(
                "letsencrypt",
                "constraint",
                "Let's Encrypt certificates need a public Load Balancer: private Load Balancers accept imported certificates only",
            );
        }
        const custom = body.custom_certificate;
        if (!isJsonObject(custom) || typeof custom.certificate_chain !== "string") {
            return invalidArgument("custom_certificate.certificate_chain", "required", "certificate_chain is required");
        }
        const parsed = parseCertificateBundle(custom.certificate_chain);
        if (!parsed.ok) return invalidArgument("certificate_chain", "constraint", parsed.reason);
        const onLb = [...this.certificates.values()].filter((certificate) => certificate.lbId === lb.id).length;
        if (onLb >= MAX_CERTIFICATES_PER_LB) {
            return {
                status: 400,
                body: {
                    type: "quotas_exceeded",
                    message: `quota exceeded: at most ${MAX_CERTIFICATES_PER_LB} certificates per Load Balancer`,
                    details: [{ resource: "lb_certificates", quota: MAX_CERTIFICATES_PER_LB, current: onLb }],
                },
            };
        }
        const failure = this.uploadFailures.shift();
        const createdAt = now();
        const { bundle } = parsed;
        const certificate: CertificateRecord = {
            id: randomUUID(),
            lbId: lb.id,
            zone: lb.zone,
            name: body.name,
            commonName: bundle.commonName,
            subjectAlternativeName: bundle.subjectAlternativeNames,
            fingerprint: bundle.fingerprint,
            notValidBefore: secondsPrecision(bundle.notValidBefore),
            notValidAfter: secondsPrecision(bundle.notValidAfter),
            certificateChain: custom.certificate_chain,
            createdAt,
            updatedAt: createdAt,
            outcome: failure === undefined ? "ready" : "error",
            failureDetails: failure ?? null,
            pendingGetsLeft: this.readyAfterGets,
            pendingUntil: Date.now() + this.readyAfterMs,
        };
        this.certificates.set(certificate.id, certificate);
        return { status: 200, body: this.certificateJson(certificate, this.certificateStatus(certificate)) };
    }

    listCertificates(zone: string, lbId: string, query: URLSearchParams): ApiResponse {
        const lb = this.findLb(zone, lbId);
        if (isApiResponse(lb)) return lb;
        const onLb = [...this.certificates.values()].filter((certificate) => certificate.lbId === lb.id);
        return listResponse(onLb, query, "certificates", (certificate) => this.certificateJson(certificate, this.observe(certificate)));
    }

    renameCertificate(zone: string, certificateId: string, body: unknown): ApiResponse {
        const certificate = this.findCertificate(zone, certificateId);
        if (isApiResponse(certificate)) return certificate;
        if (!isJsonObject(body)) return invalidArgument("body", "required", "a JSON object is required");
        const unexpected = Object.keys(body).find((key) => key !== "name");
        if (unexpected) return invalidArgument(unexpected, "constraint", "only the name of a certificate can be updated");
        if (typeof body.name !== "string" || body.name === "") return invalidArgument("name", "required", "name is required");
        certificate.name = body.name;
        certificate.updatedAt = now();
        return { status: 200, body: this.certificateJson(certificate, this.certificateStatus(certificate)) };
    }

    deleteCertificate(zone: string, certificateId: string): ApiResponse {
        const certificate = this.findCertificate(zone, certificateId);
        if (isApiResponse(certificate)) return certificate;
        const boundTo = [...this.frontends.values()].find((frontend) => frontend.certificateIds.includes(certificate.id));
        if (boundTo) {
            return invalidArgument(
                "certificate_id",
                "constraint",
                `${CERTIFICATE_IN_USE_MESSAGE} (${boundTo.id})`,
                CERTIFICATE_IN_USE_MESSAGE,
            );
        }
        this.certificates.delete(certificate.id);
        return { status: 204 };
    }

    // --- private networks and IPAM -----------------------------------------------------------

    attachPrivateNetwork(zone: string, lbId: string, body: unknown): ApiResponse {
        const lb = this.findLb(zone, lbId);
        if (isApiResponse(lb)) return lb;
        if (!isJsonObject(body)) return invalidArgument("body", "required", "a JSON object is required");
        const privateNetworkId = body.private_network_id;
        if (typeof privateNetworkId !== "string" || !UUID.test(privateNetworkId)) {
            return invalidArgument("private_network_id", "required", "private_network_id (UUID) is required");
        }
        if (lb.privateNetworks.some((attachment) => attachment.privateNetworkId === privateNetworkId)) {
            return {
                status: 409,
                body: {
                    type: "already_exists",
                    message: "resource already exists",
                    resource: "lb_private_network",
                    resource_id: privateNetworkId,
                },
            };
        }
        if (lb.privateNetworks.length >= MAX_PRIVATE_NETWORKS_PER_LB) {
            return invalidArgument(
                "private_network_id",
                "constraint",
                `a Load Balancer can be attached to at most ${MAX_PRIVATE_NETWORKS_PER_LB} Private Networks`,
            );
        }
        const staticAddress: unknown =
            isJsonObject(body.static_config) && Array.isArray(body.static_config.ip_address) ? body.static_config.ip_address[0] : undefined;
        const { ipAddress, prefixLength } = splitAddress(
            typeof staticAddress === "string" ? staticAddress : this.nextAutoAddress(privateNetworkId),
        );
        const ipamId = Array.isArray(body.ipam_ids) && typeof body.ipam_ids[0] === "string" ? body.ipam_ids[0] : undefined;
        const attachment = this.addAttachment(lb, privateNetworkId, ipAddress, prefixLength, ipamId);
        lb.updatedAt = now();
        return { status: 200, body: this.privateNetworkJson(lb, attachment) };
    }

    listPrivateNetworks(zone: string, lbId: string, query: URLSearchParams): ApiResponse {
        const lb = this.findLb(zone, lbId);
        if (isApiResponse(lb)) return lb;
        const page = paginate(lb.privateNetworks, query);
        if (!page.ok) return page.error;
        return {
            status: 200,
            body: { private_network: page.items.map((attachment) => this.privateNetworkJson(lb, attachment)), total_count: page.total },
        };
    }

    /** VPC v2 `GET private-networks`, filtered by exact name as the real API's `name` filter narrows it. */
    listVpcPrivateNetworks(region: string, query: URLSearchParams): ApiResponse {
        const name = query.get("name");
        const matching = [...this.privateNetworkNames.entries()]
            .filter(([, network]) => network.region === region && (name === null || network.name.includes(name)))
            .map(([id, network]) => ({ id, name: network.name, region: network.region, tags: [], subnets: [], dhcp_enabled: true }));
        const page = paginate(matching, query);
        if (!page.ok) return page.error;
        return { status: 200, body: { private_networks: page.items, total_count: page.total } };
    }

    listIpamIps(region: string, query: URLSearchParams): ApiResponse {
        const resourceType = query.get("resource_type");
        const resourceId = query.get("resource_id");
        const privateNetworkId = query.get("private_network_id");
        const isIpv6 = query.get("is_ipv6");
        const matching: Record<string, unknown>[] = [];
        for (const lb of this.loadBalancers.values()) {
            if (lb.region !== region || (resourceType && resourceType !== "lb_server") || (resourceId && resourceId !== lb.id)) continue;
            for (const attachment of lb.privateNetworks) {
                if (privateNetworkId && privateNetworkId !== attachment.privateNetworkId) continue;
                if (isIpv6 === "true") continue;
                matching.push(this.ipamJson(lb, attachment));
            }
        }
        const page = paginate(matching, query);
        if (!page.ok) return page.error;
        return { status: 200, body: { ips: page.items, total_count: page.total } };
    }

    // --- request pipeline ------------------------------------------------------------------

    intercept(request: ApiRequest): ApiResponse | undefined {
        const token = request.headers["x-auth-token"];
        if (token === undefined || token === "") return deniedAuthentication("invalid_argument");
        if (token !== this.credentials.secretKey) return deniedAuthentication("not_found");
        const fault = this.faults.take(request.method, request.path);
        return fault ? faultResponse(fault, request.path) : undefined;
    }

    routes(): Route[] {
        const zoned = (suffix: string) => new RegExp(`^/lb/v1/zones/(?<zone>[a-z0-9-]+)/${suffix}$`);
        const found = <T extends object>(value: T | ApiResponse, render: (record: T) => ApiResponse): ApiResponse =>
            isApiResponse(value) ? value : render(value);
        return [
            {
                method: "GET",
                pattern: zoned("lbs"),
                handle: ({ params, query }) => {
                    const inZone = [...this.loadBalancers.values()].filter((lb) => lb.zone === params.zone);
                    return listResponse(inZone, query, "lbs", (lb) => this.lbJson(lb));
                },
            },
            {
                method: "GET",
                pattern: zoned("lbs/(?<id>[^/]+)"),
                handle: ({ params }) =>
                    found(this.findLb(params.zone ?? "", params.id ?? ""), (lb) => ({ status: 200, body: this.lbJson(lb) })),
            },
            {
                method: "GET",
                pattern: zoned("lbs/(?<id>[^/]+)/frontends"),
                handle: ({ params, query }) => this.listFrontends(params.zone ?? "", params.id ?? "", query),
            },
            {
                method: "POST",
                pattern: zoned("lbs/(?<id>[^/]+)/frontends"),
                handle: ({ params, body }) => this.createFrontend(params.zone ?? "", params.id ?? "", body),
            },
            {
                method: "GET",
                pattern: zoned("frontends/(?<id>[^/]+)"),
                handle: ({ params }) =>
                    found(this.findFrontend(params.zone ?? "", params.id ?? ""), (frontend) => ({
                        status: 200,
                        body: this.frontendJson(frontend),
                    })),
            },
            {
                method: "PUT",
                pattern: zoned("frontends/(?<id>[^/]+)"),
                handle: ({ params, body }) => this.replaceFrontend(params.zone ?? "", params.id ?? "", body),
            },
            {
                method: "DELETE",
                pattern: zoned("frontends/(?<id>[^/]+)"),
                handle: ({ params }) =>
                    found(this.findFrontend(params.zone ?? "", params.id ?? ""), (frontend) => {
                        this.frontends.delete(frontend.id);
                        return { status: 204 };
                    }),
            },
            {
                method: "POST",
                pattern: zoned("lbs/(?<id>[^/]+)/certificates"),
                handle: ({ params, body }) => this.createCertificate(params.zone ?? "", params.id ?? "", body),
            },
            {
                method: "GET",
                pattern: zoned("lbs/(?<id>[^/]+)/certificates"),
                handle: ({ params, query }) => this.listCertificates(params.zone ?? "", params.id ?? "", query),
            },
            {
                method: "GET",
                pattern: zoned("certificates/(?<id>[^/]+)"),
                handle: ({ params }) =>
                    found(this.findCertificate(params.zone ?? "", params.id ?? ""), (certificate) => ({
                        status: 200,
                        body: this.certificateJson(certificate, this.observe(certificate)),
                    })),
            },
            {
                method: "PUT",
                pattern: zoned("certificates/(?<id>[^/]+)"),
                handle: ({ params, body }) => this.renameCertificate(params.zone ?? "", params.id ?? "", body),
            },
            {
                method: "DELETE",
                pattern: zoned("certificates/(?<id>[^/]+)"),
                handle: ({ params }) => this.deleteCertificate(params.zone ?? "", params.id ?? ""),
            },
            {
                method: "GET",
                pattern: zoned("lbs/(?<id>[^/]+)/private-networks"),
                handle: ({ params, query }) => this.listPrivateNetworks(params.zone ?? "", params.id ?? "", query),
            },
            {
                method: "POST",
                pattern: zoned("lbs/(?<id>[^/]+)/attach-private-network"),
                handle: ({ params, body }) => this.attachPrivateNetwork(params.zone ?? "", params.id ?? "", body),
            },
            {
                method: "GET",
                pattern: /^\/ipam\/v1\/regions\/(?<region>[a-z0-9-]+)\/ips$/,
                handle: ({ params, query }) => this.listIpamIps(params.region ?? "", query),
            },
            {
                method: "GET",
                pattern: /^\/vpc\/v2\/regions\/(?<region>[a-z0-9-]+)\/private-networks$/,
                handle: ({ params, query }) => this.listVpcPrivateNetworks(params.region ?? "", query),
            },
        ];
    }
}

export async function startScalewayServer(options: ScalewayServerOptions = {}): Promise<LocalScalewayServer> {
    const credentials: ScalewayCredentials = {
        accessKey: options.accessKey ?? randomAccessKey(),
        secretKey: options.secretKey ?? randomUUID(),
        projectId: options.projectId ?? randomUUID(),
        organizationId: randomUUID(),
    };
    const defaultZone = options.defaultZone ?? "fr-par-1";
    const world = new ScalewayWorld(credentials, defaultZone);
    const server = await startApiServer({
        routes: world.routes(),
        intercept: (request) => world.intercept(request),
        notFound: (request) => ({ status: 404, body: { type: "not_found", message: `no route for ${request.method} ${request.path}` } }),
        badJson: (_request, reason) => invalidArgument("body", "format", `invalid JSON: ${reason}`),
    });
    const clientSettings: ScalewayClientSettings = {
        accessKey: credentials.accessKey,
        secretKey: credentials.secretKey,
        apiURL: server.url,
        defaultProjectId: credentials.projectId,
        defaultOrganizationId: credentials.organizationId,
        defaultZone,
        defaultRegion: regionOfZone(defaultZone),
    };
    const certificatesOf = (lbId?: string) =>
        [...world.certificates.values()]
            .filter((certificate) => !lbId || certificate.lbId === lbId)
            .map((certificate) => world.certificateSnapshot(certificate));
    return {
        url: server.url,
        credentials,
        clientSettings,
        env: {
            SCW_ACCESS_KEY: credentials.accessKey,
            SCW_SECRET_KEY: credentials.secretKey,
            SCW_API_URL: server.url,
            SCW_DEFAULT_PROJECT_ID: credentials.projectId,
            SCW_DEFAULT_ORGANIZATION_ID: credentials.organizationId,
            SCW_DEFAULT_ZONE: defaultZone,
            SCW_DEFAULT_REGION: regionOfZone(defaultZone),
        },
        calls: server.calls,
        callCount: server.callCount,
        seedLoadBalancer: (input) => world.seedLoadBalancer(input),
        seedFrontend: (input) => world.seedFrontend(input),
        failNext: (fault) => world.faults.add(fault),
        failCertificateUploads: (statusDetails, times = 1) => {
            world.uploadFailures.push(...Array.from({ length: times }, () => statusDetails));
        },
        setReadyAfter: (gets) => {
            world.readyAfterGets = gets;
        },
        setReadyAfterMs: (ms) => {
            world.readyAfterMs = ms;
        },
        simulateCcmReconcile: (frontendId, certificateIds) => world.simulateCcmReconcile(frontendId, certificateIds),
        state: {
            loadBalancers: () => [...world.loadBalancers.values()].map((lb) => world.lbSnapshot(lb)),
            frontends: (lbId) =>
                [...world.frontends.values()]
                    .filter((frontend) => !lbId || frontend.lbId === lbId)
                    .map((frontend) => world.frontendSnapshot(frontend)),
            certificates: certificatesOf,
            certificatesByLb: () => Object.fromEntries([...world.loadBalancers.keys()].map((lbId) => [lbId, certificatesOf(lbId)])),
        },
        stop: server.stop,
    };
}
