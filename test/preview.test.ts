import * as net from "node:net";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { MockWorld } from "./support/pulumiMocks";
import { Program, runProgram } from "./support/program";

// A pull-request preview runs with read-only credentials: the program itself must open no
// connection and create nothing; only the engine's providers answer read-only lookups.
// node:http/https clients (axios, acme-client) connect through net.Socket; the Scaleway and
// Cloudflare SDKs use the global fetch, whose bundled undici does not.
const connections = vi.spyOn(net.Socket.prototype, "connect");
const fetches = vi.spyOn(globalThis, "fetch");

let world: MockWorld;
let program: Program;

beforeAll(async () => {
    ({ world, program } = await runProgram("prod", { preview: true }));
});

afterAll(() => {
    vi.restoreAllMocks();
});

describe("pulumi preview -s prod", () => {
    it("opens no network connection from the program", () => {
        expect(connections).not.toHaveBeenCalled();
        expect(fetches).not.toHaveBeenCalled();
    });

    it("declares the full graph without waiting for ids that do not exist yet", async () => {
        expect(world.byType("scaleway:loadbalancers/loadBalancer:LoadBalancer")).toHaveLength(1);
        expect(world.byType("kubernetes:core/v1:Service")).toHaveLength(2);
        expect(world.byType("cloudflare:index/dnsRecord:DnsRecord")).toHaveLength(4);
        expect(program.httpsPorts).toEqual({ test: 443, backoffice: 8443 });
    });

    it("only makes read-only lookups, and none that needs a resource that does not exist yet", () => {
        const tokens = new Set(world.invokes.map((invoke) => invoke.token));
        for (const token of tokens) {
            expect(["scaleway:network/getPrivateNetwork:getPrivateNetwork", "cloudflare:index/getZone:getZone"]).toContain(token);
        }
        // IPAM is asked only once the LB exists: not during the preview of a new stack.
        expect(tokens.has("scaleway:ipam/getIp:getIp")).toBe(false);
    });
});
