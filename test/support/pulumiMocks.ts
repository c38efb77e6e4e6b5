/**
 * Pulumi mocks that record what a program registers, so tests assert the exact resource graph.
 * Invokes answer like the real providers would for the lookups this project makes.
 */
import * as pulumi from "@pulumi/pulumi";
import { MockCallArgs, MockResourceArgs } from "@pulumi/pulumi/runtime";
import { createHash } from "node:crypto";

export const CERTIFICATE_TYPE = "pulumi-nodejs:dynamic/scw-private-lb:AcmeLbCertificate";

export interface RegisteredResource {
    type: string;
    name: string;
    inputs: Record<string, unknown>;
    provider?: string;
}

/** A stable fake UUID derived from a seed, so ids are predictable in assertions. */
export function fakeUuid(seed: string): string {
    const hex = createHash("sha256").update(seed).digest("hex");
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** The private IP the mocked IPAM gives the LB in a network: deterministic per network id. */
export function fakePrivateIp(privateNetworkId: string): string {
    const digest = createHash("sha256").update(privateNetworkId).digest();
    return `172.16.${digest[0]}.${(digest[1] % 250) + 2}`;
}

export interface MockWorld {
    resources: RegisteredResource[];
    invokes: MockCallArgs[];
    byType(type: string): RegisteredResource[];
    one(type: string, name?: string): RegisteredResource;
}

export async function installMocks(options: { project?: string; stack?: string; preview?: boolean; config?: Record<string, string> } = {}): Promise<MockWorld> {
    const resources: RegisteredResource[] = [];
    const invokes: MockCallArgs[] = [];
    if (options.config) {
        pulumi.runtime.setAllConfig(options.config);
    }
    await pulumi.runtime.setMocks(
        {
            newResource(args: MockResourceArgs) {
                resources.push({ type: args.type, name: args.name, inputs: args.inputs, provider: args.provider });
                if (options.preview) {
                    // Preview: providers do not create anything, ids and computed outputs stay unknown.
                    return { id: undefined, state: args.inputs };
                }
                switch (args.type) {
                    case "scaleway:loadbalancers/loadBalancer:LoadBalancer":
                        return { id: `${args.inputs.zone}/${fakeUuid(args.name)}`, state: { ...args.inputs, privateIps: [] } };
                    case "scaleway:loadbalancers/privateNetwork:PrivateNetwork":
                        return { id: `${args.inputs.zone}/${fakeUuid(args.name)}`, state: args.inputs };
                    case CERTIFICATE_TYPE: {
                        // What the provider's create returns, minus the key material.
                        const zone = String(args.inputs.loadBalancerId).split("/")[0];
                        const uuid = fakeUuid(args.name);
                        return {
                            id: uuid,
                            state: { ...args.inputs, certificateId: `${zone}/${uuid}`, certificateUuid: uuid, notAfter: "2027-02-20T00:00:00.000Z", renewalDueAt: "2027-01-21T00:00:00.000Z", bindingStatus: "annotation-pending" },
                        };
                    }
                    default:
                        return { id: `${args.name}-id`, state: args.inputs };
                }
            },
            call(args: MockCallArgs) {
                invokes.push(args);
                switch (args.token) {
                    case "scaleway:ipam/getIp:getIp":
                        return { id: fakeUuid(`ip-${args.inputs.privateNetworkId}`), address: fakePrivateIp(args.inputs.privateNetworkId), addressCidr: `${fakePrivateIp(args.inputs.privateNetworkId)}/22` };
                    case "scaleway:network/getPrivateNetwork:getPrivateNetwork":
                        return { id: `fr-par/${fakeUuid(`pn-${args.inputs.name}`)}`, name: args.inputs.name };
                    case "cloudflare:index/getZone:getZone": {
                        const zoneId = createHash("md5").update(args.inputs.filter.name).digest("hex");
                        return { id: zoneId, zoneId, name: args.inputs.filter.name };
                    }
                    default:
                        throw new Error(`unexpected invoke ${args.token}`);
                }
            },
        },
        options.project ?? "scw-private-lb",
        options.stack ?? "test",
        options.preview ?? false,
    );
    return {
        resources,
        invokes,
        byType: (type) => resources.filter((r) => r.type === type),
        one(type, name) {
            const matches = resources.filter((r) => r.type === type && (name === undefined || r.name === name));
            if (matches.length !== 1) {
                throw new Error(`expected one ${type}${name ? ` named ${name}` : ""}, found ${matches.length}: ${resources.map((r) => `${r.type}:${r.name}`).join(", ")}`);
            }
            return matches[0];
        },
    };
}

/** Resolves an Output in a test (undefined while unknown in preview). */
export function valueOf<T>(output: pulumi.Input<T>): Promise<T> {
    return new Promise((resolve) => pulumi.output(output).apply((value) => resolve(value as T)));
}

/**
 * Waits until the program has no registration or invoke in flight, as the engine does before it
 * ends a deployment. `waitForRPCs` is exported by the SDK's settings module but not typed.
 */
export async function allRegistered(): Promise<void> {
    const settings = require("@pulumi/pulumi/runtime/settings") as { waitForRPCs(): Promise<void> };
    await settings.waitForRPCs();
}
