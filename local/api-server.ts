/**
 * Plumbing shared by the local fake APIs (Scaleway, Cloudflare): a node:http server on
 * 127.0.0.1:0 that speaks JSON, a tiny router, a log of every call and one-shot fault injection.
 * Each API decides its own auth and error shapes.
 */
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { LOOPBACK } from "./ports";

export interface ApiRequest {
    method: string;
    /** Path without query string, e.g. "/lb/v1/zones/fr-par-1/lbs/<id>". */
    path: string;
    query: URLSearchParams;
    headers: http.IncomingHttpHeaders;
    /** Parsed JSON body; undefined when the body is empty. */
    body: unknown;
    /** Route parameters captured by the route's named groups. */
    params: Record<string, string>;
}

export interface ApiResponse {
    status: number;
    /** Serialised as JSON; omitted for undefined (e.g. 204). */
    body?: unknown;
    headers?: Record<string, string>;
}

export interface Route {
    method: string;
    /** Anchored regex on the path; named groups become `params`. */
    pattern: RegExp;
    /** May be async, e.g. to mirror a change elsewhere before answering. */
    handle(request: ApiRequest): ApiResponse | Promise<ApiResponse>;
}

/** Lookups return the record or the error response; records must not have a `status` field. */
export function isApiResponse<T extends object>(value: T | ApiResponse): value is ApiResponse {
    return "status" in value;
}

export function isJsonObject(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

export interface RecordedCall {
    method: string;
    path: string;
    query: string;
    status: number;
}

export interface FaultRule {
    /** Any method when omitted. */
    method?: string;
    /** A regex tested against the path, or a substring of it. */
    pathPattern: RegExp | string;
    status: number;
    /** How many matching requests fail (default 1). */
    times?: number;
    retryAfterSeconds?: number;
    /** Carry the request out, then answer with the fault: a response lost after the work was done. */
    afterApplying?: boolean;
}

/** Faults waiting to fire, consumed in the order they were added. */
export class FaultQueue<Rule extends FaultRule> {
    private readonly pending: { rule: Rule; remaining: number }[] = [];

    add(rule: Rule): void {
        this.pending.push({ rule, remaining: rule.times ?? 1 });
    }

    /** The first rule matching this request, counting one use of it. */
    take(method: string, path: string): Rule | undefined {
        const entry = this.pending.find(({ rule }) => faultMatches(rule, method, path));
        if (!entry) return undefined;
        entry.remaining -= 1;
        if (entry.remaining <= 0) this.pending.splice(this.pending.indexOf(entry), 1);
        return entry.rule;
    }
}

export function faultMatches(rule: FaultRule, method: string, path: string): boolean {
    if (rule.method && rule.method.toUpperCase() !== method) return false;
    return typeof rule.pathPattern === "string" ? path.includes(rule.pathPattern) : rule.pathPattern.test(path);
}

export interface ApiServerHooks {
    routes: readonly Route[];
    /** Runs before routing; a response here (auth failure, injected fault) short-circuits. */
    intercept(request: ApiRequest): ApiResponse | undefined;
    /** Runs after the request was carried out; a response here replaces the real answer. */
    afterHandling?(request: ApiRequest): ApiResponse | undefined;
    notFound(request: ApiRequest): ApiResponse;
    badJson(request: ApiRequest, reason: string): ApiResponse;
}

export interface RunningApiServer {
    /** http://127.0.0.1:<port>, no trailing slash. */
    url: string;
    /** Every request answered, in order. */
    readonly calls: readonly RecordedCall[];
    // Function-valued properties (not methods): the servers built on it hand them on unbound.
    callCount: (method?: string, pathPattern?: RegExp) => number;
    stop: () => Promise<void>;
}

function readBody(request: http.IncomingMessage): Promise<string> {
    return new Promise((resolve, reject) => {
        let body = "";
        request.setEncoding("utf8");
        request.on("data", (chunk: string) => (body += chunk));
        request.on("end", () => resolve(body));
        request.on("error", reject);
    });
}

function route(routes: readonly Route[], request: ApiRequest): Route | undefined {
    for (const candidate of routes) {
        if (candidate.method !== request.method) continue;
        const match = candidate.pattern.exec(request.path);
        if (match) {
            Object.assign(request.params, match.groups ?? {});
            return candidate;
        }
    }
    return undefined;
}

function respond(response: http.ServerResponse, answer: ApiResponse): void {
    // Exactly "application/json": @scaleway/sdk-client only parses JSON for that exact value.
    const headers: Record<string, string> = { ...answer.headers };
    if (answer.body !== undefined) headers["Content-Type"] = "application/json";
    response.writeHead(answer.status, headers);
    response.end(answer.body === undefined ? undefined : JSON.stringify(answer.body));
}

async function answer(hooks: ApiServerHooks, request: ApiRequest, rawBody: string): Promise<ApiResponse> {
    const intercepted = hooks.intercept(request);
    if (intercepted) return intercepted;
    if (rawBody.trim() !== "") {
        try {
            request.body = JSON.parse(rawBody);
        } catch (error) {
            return hooks.badJson(request, (error as Error).message);
        }
    }
    const matched = route(hooks.routes, request);
    const handled = matched ? await matched.handle(request) : hooks.notFound(request);
    return hooks.afterHandling?.(request) ?? handled;
}

export async function startApiServer(hooks: ApiServerHooks): Promise<RunningApiServer> {
    const calls: RecordedCall[] = [];
    const server = http.createServer((incoming, outgoing) => {
        void (async () => {
            const url = new URL(incoming.url ?? "/", "http://local");
            const request: ApiRequest = {
                method: (incoming.method ?? "GET").toUpperCase(),
                path: url.pathname,
                query: url.searchParams,
                headers: incoming.headers,
                body: undefined,
                params: {},
            };
            let result: ApiResponse;
            try {
                result = await answer(hooks, request, await readBody(incoming));
            } catch (error) {
                // A bug in a fake must be loud, not a hung request.
                result = { status: 500, body: { message: `local fake API crashed: ${(error as Error).stack ?? String(error)}` } };
            }
            calls.push({ method: request.method, path: request.path, query: url.search, status: result.status });
            respond(outgoing, result);
        })();
    });
    await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(0, LOOPBACK, () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    let stopping: Promise<void> | undefined;
    return {
        url: `http://${LOOPBACK}:${port}`,
        calls,
        callCount: (method, pathPattern) =>
            calls.filter((call) => (!method || call.method === method.toUpperCase()) && (!pathPattern || pathPattern.test(call.path)))
                .length,
        stop: () =>
            (stopping ??= new Promise<void>((resolve) => {
                server.close(() => resolve());
                server.closeAllConnections();
            })),
    };
}
