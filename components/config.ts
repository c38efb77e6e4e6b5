/**
 * The stack configuration: one typed schema (zod) that every key goes through, so a missing or
 * invalid key fails at `pulumi preview` with a message naming the key and the expected form.
 */
import { z } from "zod";
import { PASS_THROUGH_ANNOTATIONS, PassThroughSetting, validatePassThroughSettings } from "./annotations";
import { parseZonedId } from "./certificate/validation";
import { appFqdn, isDnsLabel, isDomainName, isUuid, isWithinZone, isZone, loadBalancerName, regionOfZone } from "./naming";

export const PROJECT = "scw-private-lb";

/** Scaleway LB offers; a private admin entrance needs no more than LB-S (200 Mbps). */
export const LB_TYPES = ["LB-S", "LB-GP-M", "LB-GP-L", "LB-GP-XL"] as const;
/** Scaleway allows at most 8 private networks on one LB (field notes §3). */
export const MAX_PRIVATE_NETWORKS_PER_LB = 8;
export const ACME_SERVERS = {
    letsencrypt: "https://acme-v02.api.letsencrypt.org/directory",
    "letsencrypt-staging": "https://acme-staging-v02.api.letsencrypt.org/directory",
} as const;

const slug = (what: string) =>
    z.string().regex(/^[a-z][a-z0-9-]{0,19}$/, `${what} must be 1-20 lowercase letters, digits or hyphens, starting with a letter`);
const domainName = z
    .string()
    .transform((value) => value.toLowerCase())
    .refine(isDomainName, "must be a DNS name such as prod.example.com");
const regionalId = z
    .string()
    .refine(
        (value) => isUuid(value) || /^[a-z]{2}-[a-z]{3}\/[0-9a-f-]{36}$/i.test(value),
        "must be a private network id: <uuid> or <region>/<uuid>, e.g. fr-par/6ba7b810-9dad-11d1-80b4-00c04fd430c8",
    );
const kubernetesName = z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, "must be a Kubernetes name: lowercase letters, digits and hyphens, at most 63 characters");
const port = z.number().int("must be a whole number").min(1, "must be a port between 1 and 65535").max(65535, "must be a port between 1 and 65535");

const environmentSchema = z
    .object({
        domain: domainName.describe("DNS suffix of the environment, e.g. prod.example.com"),
        privateNetworkId: regionalId.optional(),
        privateNetworkName: z.string().min(1).optional(),
        cloudflareZoneId: z.string().regex(/^[0-9a-f]{32}$/, "must be a Cloudflare zone id (32 hex characters)").optional(),
        cloudflareZone: domainName.optional(),
    })
    .strict()
    .superRefine((env, ctx) => {
        if ((env.privateNetworkId === undefined) === (env.privateNetworkName === undefined)) {
            ctx.addIssue({ code: "custom", message: "set exactly one of privateNetworkId or privateNetworkName" });
        }
        if ((env.cloudflareZoneId === undefined) === (env.cloudflareZone === undefined)) {
            ctx.addIssue({ code: "custom", message: "set exactly one of cloudflareZoneId or cloudflareZone" });
        }
        if (env.cloudflareZone !== undefined && !isWithinZone(env.domain, env.cloudflareZone)) {
            ctx.addIssue({
                code: "custom",
                path: ["domain"],
                message: `"${env.domain}" is not inside the Cloudflare zone "${env.cloudflareZone}"`,
            });
        }
    });

const ccmSettingsSchema = z
    .object(
        Object.fromEntries(
            (Object.keys(PASS_THROUGH_ANNOTATIONS) as PassThroughSetting[]).map((key) => [
                key,
                z.union([z.string(), z.number(), z.boolean()]).transform(String).optional(),
            ]),
        ) as Record<PassThroughSetting, z.ZodOptional<z.ZodPipe<z.ZodUnion<[z.ZodString, z.ZodNumber, z.ZodBoolean]>, z.ZodTransform<string, string | number | boolean>>>>,
    )
    .strict();

const extraPortSchema = z
    .object({
        name: kubernetesName,
        port,
        targetPort: z.union([port, kubernetesName]).optional(),
        protocol: z
            .string()
            .refine((value) => value.toUpperCase() === "TCP", "only TCP is supported: the Scaleway CCM creates TCP frontends only")
            .optional(),
    })
    .strict();

const appSchema = z
    .object({
        name: z.string().refine(isDnsLabel, "must be a DNS label (the hostname of the app, e.g. test)"),
        namespace: kubernetesName,
        serviceName: kubernetesName.optional(),
        selector: z.record(z.string(), z.string()).optional(),
        labels: z.record(z.string(), z.string()).optional(),
        httpsPort: port.default(443),
        targetPort: z.union([port, kubernetesName]).default(80),
        extraPorts: z.array(extraPortSchema).default([]),
        ccm: ccmSettingsSchema.default({}),
        /** A certificate already on the LB (made by hand) that the first `up` takes over; see the README's migration. */
        adoptCertificateId: z
            .string()
            .refine((id) => parseZonedId(id) !== undefined, "must be a zoned certificate id <zone>/<uuid>, e.g. fr-par-1/7c1c3e00-1111-4222-8333-944455556666")
            .optional(),
    })
    .strict()
    .superRefine((app, ctx) => {
        if (app.httpsPort === 80) {
            ctx.addIssue({ code: "custom", path: ["httpsPort"], message: "port 80 cannot carry the certificate: use 443 (or another TLS port)" });
        }
        const names = new Set<string>(["https"]);
        const ports = new Set<number>([app.httpsPort]);
        app.extraPorts.forEach((extra, index) => {
            if (names.has(extra.name)) {
                ctx.addIssue({ code: "custom", path: ["extraPorts", index, "name"], message: `port name "${extra.name}" is used twice in this Service` });
            }
            if (ports.has(extra.port)) {
                ctx.addIssue({
                    code: "custom",
                    path: ["extraPorts", index, "port"],
                    message: `port ${extra.port} is already ${extra.port === app.httpsPort ? "this app's httpsPort" : "another extra port of this app"}`,
                });
            }
            names.add(extra.name);
            ports.add(extra.port);
        });
        const servicePorts = [app.httpsPort, ...app.extraPorts.map((extra) => extra.port)];
        for (const problem of validatePassThroughSettings(app.ccm as Partial<Record<PassThroughSetting, string>>, servicePorts)) {
            const [setting] = problem.split(":");
            ctx.addIssue({ code: "custom", path: ["ccm", setting], message: problem.slice(setting.length + 2) });
        }
    });

const stringList = z.array(z.string());
/** Pulumi.yaml gives optional keys an empty default ("" or 0): treat those as unset. */
const unsetWhenEmpty = <T extends z.ZodType>(schema: T) =>
    z.preprocess((value) => (value === "" || value === 0 ? undefined : value), schema.optional());

export const stackConfigShape = z
    .object({
        environment: slug("environment"),
        domain: z.string().regex(/^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$/, "must be the domain without extension, e.g. test for test.example.com (lowercase letters, digits, hyphens)"),
        zone: z.string().refine(isZone, "must be a Scaleway zone such as fr-par-1, nl-ams-1 or pl-waw-1").default("fr-par-1"),
        lbType: z.enum(LB_TYPES, { message: `must be one of ${LB_TYPES.join(", ")}` }).default("LB-S"),
        lbTags: stringList.default([]),
        reachableFrom: z.array(slug("environment")).default([]),
        environments: z.record(slug("environment"), environmentSchema).refine((envs) => Object.keys(envs).length > 0, "declare at least this stack's environment"),
        apps: z.array(appSchema).min(1, "declare at least one app to expose"),
        dnsTtl: z.number().int("must be a whole number of seconds").min(60, "must be at least 60 seconds (Cloudflare's minimum)").max(86400, "must be at most 86400 seconds").default(300),
        kubeconfig: unsetWhenEmpty(z.string()),
        kubeContext: unsetWhenEmpty(z.string()),
        acmeEmail: z.email("must be an email address for the ACME account (expiry notices)"),
        acmeServer: z
            .string()
            .refine(
                (value) => value in ACME_SERVERS || /^https:\/\//.test(value) || /^http:\/\/(127\.0\.0\.1|localhost|\[::1\])(:|\/)/.test(value),
                `must be letsencrypt, letsencrypt-staging or an https:// ACME directory URL`,
            )
            .default("letsencrypt"),
        certificateKeyType: z.enum(["ecdsa-p256", "rsa-2048", "rsa-4096"], { message: "must be ecdsa-p256, rsa-2048 or rsa-4096" }).default("ecdsa-p256"),
        certificateProfile: unsetWhenEmpty(z.string().regex(/^[a-z0-9-]+$/, "must be an ACME profile name such as classic, tlsserver or shortlived")),
        renewalMinDaysRemaining: unsetWhenEmpty(z.number().int("must be a whole number of days").min(1, "must be between 1 and 60 days (0 turns it off)").max(60, "must be between 1 and 60 days (0 turns it off)")),
    })
    .strict();

export const stackConfigSchema = stackConfigShape.superRefine((config, ctx) => {
        if (!(config.environment in config.environments)) {
            ctx.addIssue({
                code: "custom",
                path: ["environments"],
                message: `has no entry for this stack's environment "${config.environment}"`,
            });
        }
        config.reachableFrom.forEach((env, index) => {
            if (!(env in config.environments)) {
                ctx.addIssue({ code: "custom", path: ["reachableFrom", index], message: `environment "${env}" is not declared in environments` });
            } else if (env === config.environment) {
                ctx.addIssue({ code: "custom", path: ["reachableFrom", index], message: `"${env}" is this stack's own environment: it is always attached` });
            }
        });
        // An LB attaches private networks of its own region only.
        const region = isZone(config.zone) ? regionOfZone(config.zone) : undefined;
        for (const env of [config.environment, ...config.reachableFrom]) {
            const networkRegion = config.environments[env]?.privateNetworkId?.split("/").at(-2);
            if (region !== undefined && networkRegion !== undefined && networkRegion !== region) {
                ctx.addIssue({
                    code: "custom",
                    path: ["environments", env, "privateNetworkId"],
                    message: `is in region ${networkRegion} but the LB is in zone ${config.zone} (region ${region}): an LB can only attach networks of its own region`,
                });
            }
        }
        if (new Set(config.reachableFrom).size + 1 > MAX_PRIVATE_NETWORKS_PER_LB) {
            ctx.addIssue({ code: "custom", path: ["reachableFrom"], message: `an LB accepts at most ${MAX_PRIVATE_NETWORKS_PER_LB} private networks` });
        }
        // A bad environment or domain is reported by its own field; do not cascade into the LB name.
        const nameParts = stackConfigShape.shape;
        try {
            if (nameParts.environment.safeParse(config.environment).success && nameParts.domain.safeParse(config.domain).success) {
                loadBalancerName(config.environment, config.domain);
            }
        } catch (error) {
            ctx.addIssue({ code: "custom", path: ["domain"], message: (error as Error).message });
        }
        const seenNames = new Map<string, number>();
        const seenPorts = new Map<number, string>();
        config.apps.forEach((app, index) => {
            if (seenNames.has(app.name)) {
                ctx.addIssue({ code: "custom", path: ["apps", index, "name"], message: `app "${app.name}" is declared twice` });
            }
            seenNames.set(app.name, index);
            // Every app is a Service on the same LB, and an LB frontend port can serve one Service only.
            for (const lbPort of new Set([app.httpsPort, ...app.extraPorts.map((extra) => extra.port)])) {
                const owner = seenPorts.get(lbPort);
                if (owner !== undefined) {
                    ctx.addIssue({
                        code: "custom",
                        path: ["apps", index],
                        message: `LB port ${lbPort} is already used by app "${owner}": give each app its own httpsPort and extra ports`,
                    });
                }
                seenPorts.set(lbPort, app.name);
            }
            for (const env of [config.environment, ...config.reachableFrom]) {
                const environment = config.environments[env];
                if (environment && isDnsLabel(app.name)) {
                    try {
                        appFqdn(app.name, environment.domain);
                    } catch (error) {
                        ctx.addIssue({ code: "custom", path: ["apps", index, "name"], message: (error as Error).message });
                    }
                }
            }
        });
    });

export type StackConfig = z.output<typeof stackConfigSchema>;
export type EnvironmentConfig = StackConfig["environments"][string];
export type AppConfig = StackConfig["apps"][number];

export class ConfigError extends Error {
    constructor(readonly problems: string[]) {
        super(`invalid stack configuration:\n  - ${problems.join("\n  - ")}`);
        this.name = "ConfigError";
    }
}

function formatPath(path: PropertyKey[]): string {
    return path.reduce<string>((text, part) => (typeof part === "number" ? `${text}[${part}]` : `${text}.${String(part)}`), PROJECT).replace(`${PROJECT}.`, `${PROJECT}:`);
}

function valueAt(raw: unknown, path: PropertyKey[]): unknown {
    return path.reduce<unknown>((value, key) => (value !== null && typeof value === "object" ? (value as Record<PropertyKey, unknown>)[key] : undefined), raw);
}

/** Validates already-decoded config values (objects as objects, numbers as numbers). */
export function parseStackConfig(raw: Record<string, unknown>): StackConfig {
    const result = stackConfigSchema.safeParse(raw);
    if (!result.success) {
        throw new ConfigError(
            result.error.issues.map((issue) => {
                if (issue.code === "unrecognized_keys") {
                    return `${formatPath(issue.path)}: unknown key(s) ${issue.keys.join(", ")}: check the spelling against the README's config reference`;
                }
                if (issue.code === "invalid_type") {
                    const value = valueAt(raw, issue.path);
                    const message = issue.message.replace(/^Invalid input: /, "");
                    if (value === undefined) {
                        return `${formatPath(issue.path)}: is required (${message})`;
                    }
                    // `pulumi config set key '{...}'` stores a string: structured values need --path or the stack file.
                    const structured = ["array", "record", "object"].includes(issue.expected) && typeof value === "string";
                    return `${formatPath(issue.path)}: ${message}${structured ? "; write it as YAML in Pulumi.<stack>.yaml or set it with `pulumi config set --path`" : ""}`;
                }
                return `${formatPath(issue.path)}: ${issue.message}`;
            }),
        );
    }
    return result.data;
}

/**
 * Pulumi hands every config value to the program as a string (objects and numbers JSON-encoded).
 * Takes the whole config map, keeps this project's keys and decodes them.
 */
export function decodePulumiConfig(all: Record<string, string>): Record<string, unknown> {
    const decoded: Record<string, unknown> = {};
    for (const [fullKey, value] of Object.entries(all)) {
        if (!fullKey.startsWith(`${PROJECT}:`)) {
            continue;
        }
        const key = fullKey.slice(PROJECT.length + 1);
        decoded[key] = decodeValue(value);
    }
    return decoded;
}

function decodeValue(value: string): unknown {
    if (/^\s*[[{]/.test(value) || /^-?[0-9]+(\.[0-9]+)?$/.test(value) || value === "true" || value === "false") {
        try {
            return JSON.parse(value);
        } catch {
            return value;
        }
    }
    return value;
}

/** Environments whose private networks are attached to this stack's LB: its own first. */
export function attachedEnvironments(config: StackConfig): string[] {
    return [config.environment, ...config.reachableFrom.filter((env) => env !== config.environment)];
}

/**
 * What the stack config says about one app's certificate; the LB id and the account key come from
 * resources. Names: the app in every attached environment, the stack's own first.
 */
export function certificateSettingsFor(config: StackConfig, app: AppConfig) {
    const environments = attachedEnvironments(config);
    const zoneNames = environments.map((env) => config.environments[env].cloudflareZone);
    return {
        domains: environments.map((env) => appFqdn(app.name, config.environments[env].domain)),
        zone: config.zone,
        email: config.acmeEmail,
        profile: config.certificateProfile,
        keyType: config.certificateKeyType,
        renewal: config.renewalMinDaysRemaining !== undefined ? { minDaysRemaining: config.renewalMinDaysRemaining } : {},
        // The CCM owns the app's frontend: the certificate reaches it through the Service annotation.
        binding: { mode: "annotation" as const, frontendPort: app.httpsPort },
        // `check` can reject a name outside every zone only when all zones are known by name.
        cloudflareZones: zoneNames.every((zone): zone is string => zone !== undefined) ? [...new Set(zoneNames)] : undefined,
        adoptCertificateId: app.adoptCertificateId,
    };
}
