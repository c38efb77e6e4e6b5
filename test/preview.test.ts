import { generateKeyPairSync } from "node:crypto";
import * as net from "node:net";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { createCertificateProvider } from "../components/certificate";
import { CERTIFICATE_TYPE, MockWorld } from "./support/pulumiMocks";
import { fixtureStack, Program, runProgram } from "./support/program";

// A pull-request preview runs with read-only credentials: the program itself must open no
// connection and create nothing; only the engine's providers answer read-only lookups.
// node:http/https clients (axios, acme-client) connect through net.Socket; the Scaleway and
// Cloudflare SDKs use the global fetch, whose bundled undici does not.
const connections = vi.spyOn(net.Socket.prototype, "connect");
const fetches = vi.spyOn(globalThis, "fetch");

let world: MockWorld;
let program: Program;

beforeAll(async () => {
    ({ world, program } = await runProgram(fixtureStack("three-apps"), { preview: true }));
});

afterAll(() => {
    vi.restoreAllMocks();
});

describe("pulumi preview of the three-app fixture stack", () => {
    it("opens no network connection from the program", () => {
        expect(connections).not.toHaveBeenCalled();
        expect(fetches).not.toHaveBeenCalled();
    });

    it("declares the full graph without waiting for ids that do not exist yet", () => {
        expect(world.byType("scaleway:loadbalancers/loadBalancer:LoadBalancer")).toHaveLength(2);
        expect(world.byType("kubernetes:core/v1:Service")).toHaveLength(3);
        expect(world.byType("cloudflare:index/dnsRecord:DnsRecord")).toHaveLength(5);
        expect(program.httpsPorts).toEqual({ test: 443, backoffice: 443, grafana: 8443 });
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

function accountKey(): string {
    return generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ type: "pkcs8", format: "pem" }).toString();
}

describe("the certificate provider during preview", () => {
    const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

    it("checks inputs with unknown values and diffs against state without any network call", async () => {
        const provider = createCertificateProvider();
        const registered = world.one(CERTIFICATE_TYPE, "test-certificate").inputs;
        const news = { ...registered, accountKeyPem: accountKey(), loadBalancerId: UNKNOWN };
        delete (news as Record<string, unknown>).__provider;
        const checked = await provider.check!({}, news);
        expect(checked.failures ?? []).toEqual([]);
        const inputs = z.record(z.string(), z.unknown()).parse(checked.inputs);

        const stored = {
            ...inputs,
            loadBalancerId: "fr-par-1/0d1b714f-2767-4937-a9e5-4399cfd45338",
            certificateId: "fr-par-1/aba65e0d-7391-4685-b8c3-f86b88c2ade5",
            certificateUuid: "aba65e0d-7391-4685-b8c3-f86b88c2ade5",
            notBefore: new Date(Date.now() - 86_400_000).toISOString(),
            notAfter: new Date(Date.now() + 89 * 86_400_000).toISOString(),
            renewalDueAt: new Date(Date.now() + 59 * 86_400_000).toISOString(),
            bindingStatus: "annotation-pending",
        };
        const same = await provider.diff!("aba65e0d-7391-4685-b8c3-f86b88c2ade5", stored, {
            ...inputs,
            loadBalancerId: stored.loadBalancerId,
        });
        expect(same.changes).toBe(false);
        expect(connections).not.toHaveBeenCalled();
        expect(fetches).not.toHaveBeenCalled();
    });
});
