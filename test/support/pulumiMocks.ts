/**
 * The one Pulumi mocks harness of the project: every test that runs a program or a component under mocks
 * installs it. It records what is registered (type, name, inputs, parent, provider, aliases, secret
 * outputs, the inputs as sent on the wire) so tests assert the exact resource graph, and it answers
 * like the real providers would: ids and computed outputs on `up` (unknown during a preview), the
 * lookups this project makes, and the outputs of the stacks a StackReference reads.
 */
import * as pulumi from "@pulumi/pulumi";
import { MockCallArgs, MockResourceArgs, MockResourceResult } from "@pulumi/pulumi/runtime";
import { createHash } from "node:crypto";
import { z } from "zod";

export const CERTIFICATE_TYPE = "pulumi-nodejs:dynamic/scw-private-lb:AcmeLbCertificate";
/** The key Pulumi marks a secret with on the wire. */
export const SECRET_SIG = "4dabf18193072939515e22adb298388d";

export interface RegisteredResource {
    type: string;
    name: string;
    /** Inputs as the provider receives them (secrets unwrapped). */
    inputs: Record<string, unknown>;
    /** Inputs as sent on the wire (secrets still wrapped). */
    wire: Record<string, unknown>;
    /** Provider reference `<provider urn>::<id>`, when one was given or inherited. */
    provider?: string;
    /**
     * The URN as the engine writes it: `urn:pulumi:<stack>::<project>::<parent type chain>$<type>::<name>`.
     * (The mock monitor answers a URN that keeps only the parent's last type; this one has the whole chain.)
     */
    urn: string;
    /** The parent's URN in the engine's form; undefined for a resource of the stack itself. */
    parent?: string;
    /** Aliases as sent to the engine: URNs, or `spec:<json>` for an alias the engine would resolve. */
    aliases: string[];
    additionalSecretOutputs: string[];
}

/** A stable fake UUID derived from a seed, so ids are predictable in assertions. */
export function fakeUuid(seed: string): string {
    const hex = createHash("sha256").update(seed).digest("hex");
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** The private IP the mocked IPAM gives an LB (its bare uuid) in a network: deterministic, different per LB and network. */
export function fakePrivateIp(privateNetworkId: string, lbUuid: string): string {
    const digest = createHash("sha256").update(`${lbUuid} in ${privateNetworkId}`).digest();
    return `172.16.${digest[0]}.${(digest[1] % 250) + 2}`;
}

/** The id the mocked Cloudflare lookup gives a zone name. */
export function fakeZoneId(name: string): string {
    return createHash("md5").update(name).digest("hex");
}

/** The id the mocked VPC lookup gives a private network looked up by name. */
export function fakePrivateNetworkId(name: string): string {
    return `fr-par/${fakeUuid(`pn-${name}`)}`;
}

/** The certificate id the mocked dynamic provider reports for a certificate resource named `name` on an LB of `zone`. */
export function fakeCertificateId(zone: string, name: string): string {
    return `${zone}/${fakeUuid(name)}`;
}

/** What the mocks read of a resource's inputs (the SDK hands them untyped). */
const resourceInputs = z.record(z.string(), z.unknown());
const namedInputs = z.object({ name: z.string() });
const zonedInputs = z.object({ zone: z.string() });

/** The lookups this project makes, as the SDK hands them to the mocks (every input kept). */
const invokeSchema = z.discriminatedUnion("token", [
    z.object({
        token: z.literal("scaleway:ipam/getIp:getIp"),
        inputs: z.looseObject({ privateNetworkId: z.string(), resource: z.looseObject({ id: z.string() }) }),
    }),
    z.object({ token: z.literal("scaleway:network/getPrivateNetwork:getPrivateNetwork"), inputs: z.looseObject({ name: z.string() }) }),
    z.object({
        token: z.literal("cloudflare:index/getZone:getZone"),
        inputs: z.looseObject({ filter: z.looseObject({ name: z.string() }) }),
    }),
]);
export type MockInvoke = z.infer<typeof invokeSchema>;

export interface MockWorld {
    resources: RegisteredResource[];
    invokes: MockInvoke[];
    byType(type: string): RegisteredResource[];
    one(type: string, name?: string): RegisteredResource;
}

export interface MockOptions {
    project?: string;
    stack?: string;
    preview?: boolean;
    config?: Record<string, string>;
    /** Outputs of the stacks a `StackReference` reads, by fully qualified stack name. */
    stackOutputs?: Record<string, Record<string, unknown>>;
    /** Answers a resource (its `inputs` as the mocks read them) differently from the defaults below; undefined falls back to them. */
    override?: (args: MockResourceArgs, inputs: Record<string, unknown>) => MockResourceResult | undefined;
}

function defaultResult(args: MockResourceArgs, inputs: Record<string, unknown>, options: MockOptions): MockResourceResult {
    switch (args.type) {
        case "pulumi:pulumi:StackReference": {
            // A stack reference is read by id (the stack's name); its state holds the outputs.
            const { name } = namedInputs.parse(inputs);
            const outputs = options.stackOutputs?.[name];
            if (outputs === undefined) {
                throw new Error(`no outputs mocked for the stack ${name}`);
            }
            return { id: name, state: { name, outputs, secretOutputNames: [] } };
        }
        case "scaleway:loadbalancers/loadBalancer:LoadBalancer":
            return { id: `${zonedInputs.parse(inputs).zone}/${fakeUuid(args.name)}`, state: { ...inputs, privateIps: [] } };
        case "scaleway:loadbalancers/privateNetwork:PrivateNetwork":
            return { id: `${zonedInputs.parse(inputs).zone}/${fakeUuid(args.name)}`, state: inputs };
        case CERTIFICATE_TYPE: {
            // What the provider's create returns, minus the key material.
            const zone = String(inputs.loadBalancerId).split("/")[0];
            const uuid = fakeUuid(args.name);
            return {
                id: uuid,
                state: {
                    ...inputs,
                    certificateId: fakeCertificateId(zone, args.name),
                    certificateUuid: uuid,
                    notAfter: "2027-02-20T00:00:00.000Z",
                    renewalDueAt: "2027-01-21T00:00:00.000Z",
                    bindingStatus: "annotation-pending",
                },
            };
        }
        default:
            return { id: `${args.name}-id`, state: inputs };
    }
}

function invokeOf(args: MockCallArgs): MockInvoke {
    const parsed = invokeSchema.safeParse(args);
    if (!parsed.success) {
        throw new Error(`unexpected invoke ${args.token}: ${z.prettifyError(parsed.error)}`);
    }
    return parsed.data;
}

function answerInvoke(invoke: MockInvoke): Record<string, unknown> {
    switch (invoke.token) {
        case "scaleway:ipam/getIp:getIp": {
            const address = fakePrivateIp(invoke.inputs.privateNetworkId, invoke.inputs.resource.id);
            return { id: fakeUuid(`ip-${address}`), address, addressCidr: `${address}/22` };
        }
        case "scaleway:network/getPrivateNetwork:getPrivateNetwork":
            return { id: fakePrivateNetworkId(invoke.inputs.name), name: invoke.inputs.name };
        case "cloudflare:index/getZone:getZone": {
            const zoneId = fakeZoneId(invoke.inputs.filter.name);
            return { id: zoneId, zoneId, name: invoke.inputs.filter.name };
        }
    }
}

interface AliasMessage {
    getUrn(): string;
    hasSpec(): boolean;
    getSpec(): { toObject(): unknown } | undefined;
}

interface RegisterRequest {
    getType(): string;
    getName(): string;
    getParent(): string;
    getProvider(): string;
    getAliasesList(): AliasMessage[];
    getAdditionalsecretoutputsList(): string[];
    getObject(): { toJavaScript(): Record<string, unknown> } | undefined;
}

interface RegisterResponse {
    getUrn(): string;
}

type Callback = (error: Error | null, response: RegisterResponse | undefined) => void;

export async function installMocks(options: MockOptions = {}): Promise<MockWorld> {
    const resources: RegisteredResource[] = [];
    const invokes: MockInvoke[] = [];
    const project = options.project ?? "scw-private-lb";
    const stack = options.stack ?? "test";
    if (options.config) {
        pulumi.runtime.setAllConfig(options.config);
    }
    let registering: RegisteredResource | undefined;
    await pulumi.runtime.setMocks(
        {
            newResource(args: MockResourceArgs) {
                const inputs = resourceInputs.parse(args.inputs);
                if (registering !== undefined) {
                    registering.inputs = inputs;
                } else {
                    // A read (a StackReference, `get`): recorded with what the mock is given.
                    resources.push({
                        type: args.type,
                        name: args.name,
                        inputs,
                        wire: {},
                        provider: args.provider || undefined,
                        urn: `urn:pulumi:${stack}::${project}::${args.type}::${args.name}`,
                        aliases: [],
                        additionalSecretOutputs: [],
                    });
                }
                const result = options.override?.(args, inputs) ?? defaultResult(args, inputs, options);
                // Preview: providers do not create anything, ids and computed outputs stay unknown.
                return options.preview && args.type !== "pulumi:pulumi:StackReference" ? { id: undefined, state: inputs } : result;
            },
            call(args: MockCallArgs) {
                const invoke = invokeOf(args);
                invokes.push(invoke);
                return answerInvoke(invoke);
            },
        },
        project,
        stack,
        options.preview ?? false,
    );

    // The engine's URN of each mock URN, so children get the whole parent type chain.
    const engineUrns = new Map<string, string>();
    const monitor = pulumi.runtime.getMonitor() as unknown as { registerResource(request: RegisterRequest, callback: Callback): void };
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (request, callback) => {
        const parent = request.getParent() ? engineUrns.get(request.getParent()) : undefined;
        const typeChain = parent !== undefined ? `${parent.split("::")[2]}$${request.getType()}` : request.getType();
        const record: RegisteredResource = {
            type: request.getType(),
            name: request.getName(),
            inputs: {},
            wire: request.getObject()?.toJavaScript() ?? {},
            provider: request.getProvider() || undefined,
            urn: `urn:pulumi:${stack}::${project}::${typeChain}::${request.getName()}`,
            parent,
            aliases: request
                .getAliasesList()
                .map((alias) => (alias.hasSpec() ? `spec:${JSON.stringify(alias.getSpec()?.toObject())}` : alias.getUrn())),
            additionalSecretOutputs: request.getAdditionalsecretoutputsList(),
        };
        resources.push(record);
        registering = record;
        try {
            register(request, (error, response) => {
                if (response !== undefined) {
                    engineUrns.set(response.getUrn(), record.urn);
                }
                callback(error, response);
            });
        } finally {
            registering = undefined;
        }
    };

    return {
        resources,
        invokes,
        byType: (type) => resources.filter((r) => r.type === type),
        one(type, name) {
            const matches = resources.filter((r) => r.type === type && (name === undefined || r.name === name));
            if (matches.length !== 1) {
                throw new Error(
                    `expected one ${type}${name ? ` named ${name}` : ""}, found ${matches.length}: ${resources.map((r) => `${r.type}:${r.name}`).join(", ")}`,
                );
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
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- waitForRPCs is exported by the module but missing from its typings
    const settings = require("@pulumi/pulumi/runtime/settings") as { waitForRPCs(): Promise<void> };
    await settings.waitForRPCs();
}
