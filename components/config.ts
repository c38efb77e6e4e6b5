/**
 * The stack configuration: one typed schema (zod) that every key goes through, so a missing or
 * invalid key fails at `pulumi preview` with a message naming the key and saying what to write.
 *
 * One stack per environment; every app gets its own private LB `private-lb-<env>-<app>` unless it
 * shares another app's LB (`shareLoadBalancerWith`). The stack-level `zone`, `lbType`, `lbTags` and
 * `reachableFrom` are defaults each app may override.
 */
import { z } from "zod";
import { PASS_THROUGH_ANNOTATIONS, PassThroughSetting, validatePassThroughSettings } from "./annotations";
import {
    DEFAULT_ACME_SERVER,
    DEFAULT_CERTIFICATE_KEY_TYPE,
    DEFAULT_DNS_TTL,
    DEFAULT_HTTPS_PORT,
    DEFAULT_LB_TYPE,
    DEFAULT_TARGET_PORT,
    DEFAULT_ZONE,
    MIN_DNS_TTL,
} from "./defaults";
import { appFqdn, isDnsLabel, isDomainName, isLbZone, isUuid, isWithinZone, LB_ZONES, loadBalancerName, regionOfZone } from "./naming";
import { parseZonedId } from "./certificate/ids";
import { ACME_DIRECTORIES, LETS_ENCRYPT_PROFILES } from "./certificate/validation";
import { KEY_TYPES } from "./certificate/types";

/** What an ACME profile name looks like (the CA decides which ones it offers). */
const PROFILE_NAME = /^[a-z0-9-]+$/;
export const PROJECT = "scw-private-lb";

/** Scaleway LB offers; a private admin entrance needs no more than LB-S (200 Mbps). */
export const LB_TYPES = ["LB-S", "LB-GP-M", "LB-GP-L", "LB-GP-XL"] as const;
/** Scaleway allows at most 8 private networks on one LB (docs/per-app-load-balancers.md). */
export const MAX_PRIVATE_NETWORKS_PER_LB = 8;
/** Namespaces of the providers a stack file configures next to this project's keys. */
const PROVIDER_NAMESPACES = ["scaleway", "cloudflare", "kubernetes", "tls", "pulumi"];

const SLUG = /^[a-z][a-z0-9-]{0,19}$/;
const SLUG_RULE = "1-20 lowercase letters, digits or hyphens, starting with a letter";
const HEX_WITHOUT_DASHES = /^(?:([a-z]{2}-[a-z]{3})(?:-[1-9])?\/)?([0-9a-f]{16,48})$/i;
const ZONED_UUID = /^([a-z]{2}-[a-z]{3})-[1-9]\/([0-9a-f-]{36})$/i;

const text = (whenEmpty: string) => z.string().min(1, `must not be empty: ${whenEmpty}`);
const environmentName = z.string().regex(SLUG, `must be an environment name: ${SLUG_RULE}`);
const domainName = z
    .string()
    .transform((value) => value.toLowerCase())
    .refine(isDomainName, "must be a DNS name such as prod.example.com");
const lbZone = z.string().superRefine((value, ctx) => {
    if (!isLbZone(value)) {
        ctx.addIssue({ code: "custom", message: `"${value}" is not a zone of Scaleway's LB service: use one of ${LB_ZONES.join(", ")}` });
    }
});
const lbType = z.enum(LB_TYPES, { message: `must be one of ${LB_TYPES.join(", ")}` });
const environmentList = z.array(environmentName);
const privateNetworkId = z.string().superRefine((value, ctx) => {
    if (isUuid(value) || /^[a-z]{2}-[a-z]{3}\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value)) {
        return;
    }
    const example = "fr-par/6ba7b810-9dad-11d1-80b4-00c04fd430c8";
    const zoned = ZONED_UUID.exec(value);
    const undashed = HEX_WITHOUT_DASHES.exec(value);
    let message = `must be a private network id: <region>/<uuid>, e.g. ${example}`;
    if (zoned) {
        message = `"${value}" is a zoned id, but private networks are regional: use the region, ${zoned[1]}/${zoned[2]}`;
    } else if (undashed && undashed[2].length === 32) {
        const hex = undashed[2].toLowerCase();
        const dashed = [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)].join("-");
        message = `"${value}" is a UUID without its dashes: write ${undashed[1] ? `${undashed[1]}/` : ""}${dashed}`;
    } else if (undashed) {
        message = `"${value}" has ${undashed[2].length} hex digits and no dashes: a private network id is <region>/<uuid>, the UUID being 32 hex digits written 8-4-4-4-12, e.g. ${example}`;
    }
    ctx.addIssue({ code: "custom", message });
});
const kubernetesName = z
    .string()
    .regex(
        /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/,
        "must be a Kubernetes name: lowercase letters, digits and hyphens, at most 63 characters",
    );
const port = z
    .number()
    .int("must be a whole number")
    .min(1, "must be a port between 1 and 65535")
    .max(65535, "must be a port between 1 and 65535");

const environmentSchema = z
    .object({
        domain: domainName.describe("DNS suffix of the environment, e.g. prod.example.com"),
        privateNetworkId: privateNetworkId.optional(),
        privateNetworkName: text("give the name of the environment's private network").optional(),
        cloudflareZoneId: z
            .string()
            .regex(/^[0-9a-f]{32}$/, "must be a Cloudflare zone id (32 hex characters)")
            .optional(),
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
        ) as Record<
            PassThroughSetting,
            z.ZodOptional<
                z.ZodPipe<z.ZodUnion<[z.ZodString, z.ZodNumber, z.ZodBoolean]>, z.ZodTransform<string, string | number | boolean>>
            >
        >,
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
        httpsPort: port.default(DEFAULT_HTTPS_PORT),
        targetPort: z.union([port, kubernetesName]).default(DEFAULT_TARGET_PORT),
        extraPorts: z.array(extraPortSchema).default([]),
        ccm: ccmSettingsSchema.default({}),
        /** Put this app's Service on that app's LB instead of an LB of its own. */
        shareLoadBalancerWith: z.string().refine(isDnsLabel, "must be the name of another app of this stack").optional(),
        /** Overrides of the stack-wide LB defaults, for an app with an LB of its own. */
        reachableFrom: environmentList.optional(),
        zone: lbZone.optional(),
        lbType: lbType.optional(),
        lbTags: z.array(z.string()).optional(),
        /** A certificate already on the LB (made by hand) that the first `up` takes over; see the README's migration. */
        adoptCertificateId: z
            .string()
            .refine(
                (id) => parseZonedId(id) !== undefined,
                "must be a zoned certificate id <zone>/<uuid>, e.g. fr-par-1/7c1c3e00-1111-4222-8333-944455556666",
            )
            .optional(),
    })
    .strict()
    .superRefine((app, ctx) => {
        if (app.httpsPort === 80) {
            ctx.addIssue({
                code: "custom",
                path: ["httpsPort"],
                message: "port 80 cannot carry the certificate: use 443 (or another TLS port)",
            });
        }
        const names = new Set<string>(["https"]);
        const ports = new Set<number>([app.httpsPort]);
        app.extraPorts.forEach((extra, index) => {
            if (names.has(extra.name)) {
                ctx.addIssue({
                    code: "custom",
                    path: ["extraPorts", index, "name"],
                    message: `port name "${extra.name}" is used twice in this Service`,
                });
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
        for (const problem of validatePassThroughSettings(app.ccm, servicePorts)) {
            const [setting] = problem.split(":");
            ctx.addIssue({ code: "custom", path: ["ccm", setting], message: problem.slice(setting.length + 2) });
        }
    });

/** Pulumi.yaml gives optional keys an empty default ("" or 0): treat those as unset. */
const unsetWhenEmpty = <T extends z.ZodType>(schema: T) =>
    z.preprocess((value) => (value === "" || value === 0 ? undefined : value), schema.optional());

export const stackConfigShape = z
    .object({
        environment: environmentName,
        zone: lbZone.default(DEFAULT_ZONE),
        lbType: lbType.default(DEFAULT_LB_TYPE),
        lbTags: z.array(z.string()).default([]),
        reachableFrom: environmentList.default([]),
        environments: z
            .record(environmentName, environmentSchema)
            .refine((envs) => Object.keys(envs).length > 0, "declare at least this stack's environment"),
        apps: z.array(appSchema).min(1, "declare at least one app to expose"),
        dnsTtl: z
            .number()
            .int("must be a whole number of seconds")
            .min(MIN_DNS_TTL, `must be at least ${MIN_DNS_TTL} seconds (Cloudflare's minimum)`)
            .max(86400, "must be at most 86400 seconds")
            .default(DEFAULT_DNS_TTL),
        kubeconfig: unsetWhenEmpty(z.string()),
        kubeContext: unsetWhenEmpty(z.string()),
        acmeEmail: z.email("must be an email address: the ACME account's contact (Let's Encrypt sends no expiry notices any more)"),
        acmeServer: z
            .string()
            .refine(
                (value) =>
                    value in ACME_DIRECTORIES ||
                    /^https:\/\//.test(value) ||
                    /^http:\/\/(127\.0\.0\.1|localhost|\[::1\])(:|\/)/.test(value),
                `must be letsencrypt, letsencrypt-staging or an https:// ACME directory URL`,
            )
            .default(DEFAULT_ACME_SERVER),
        certificateKeyType: z
            .enum(KEY_TYPES, { message: `must be ${KEY_TYPES.slice(0, -1).join(", ")} or ${KEY_TYPES[KEY_TYPES.length - 1]}` })
            .default(DEFAULT_CERTIFICATE_KEY_TYPE),
        certificateProfile: unsetWhenEmpty(
            z.string().regex(PROFILE_NAME, "must be an ACME profile name such as classic, tlsserver or shortlived"),
        ),
        renewalMinDaysRemaining: unsetWhenEmpty(
            z
                .number()
                .int("must be a whole number of days")
                .min(1, "must be between 1 and 60 days (0 turns it off)")
                .max(60, "must be between 1 and 60 days (0 turns it off)"),
        ),
    })
    .strict();

type ParsedShape = z.output<typeof stackConfigShape>;
type ParsedApp = ParsedShape["apps"][number];

/** The index of the app whose LB `app` uses (its own index when it shares none; -1 when the named app does not exist). */
function ownerIndexOf(config: ParsedShape, app: ParsedApp, index: number): number {
    return app.shareLoadBalancerWith === undefined
        ? index
        : config.apps.findIndex((candidate) => candidate.name === app.shareLoadBalancerWith);
}

export const stackConfigSchema = stackConfigShape.superRefine((config, ctx) => {
    const profiles: readonly string[] = LETS_ENCRYPT_PROFILES;
    const profile = config.certificateProfile;
    if (config.acmeServer in ACME_DIRECTORIES && profile !== undefined && PROFILE_NAME.test(profile) && !profiles.includes(profile)) {
        ctx.addIssue({
            code: "custom",
            path: ["certificateProfile"],
            message: `"${profile}" is not a profile of Let's Encrypt: use ${profiles.join(", ")}, or leave it unset for the CA's default`,
        });
    }
    const declared = (env: string) => env in config.environments;
    if (!declared(config.environment)) {
        ctx.addIssue({
            code: "custom",
            path: ["environments"],
            message: `has no entry for this stack's environment "${config.environment}"`,
        });
    }
    const checkReachableFrom = (list: string[], path: (string | number)[]) =>
        list.forEach((env, index) => {
            if (!declared(env)) {
                ctx.addIssue({ code: "custom", path: [...path, index], message: `environment "${env}" is not declared in environments` });
            } else if (env === config.environment) {
                ctx.addIssue({
                    code: "custom",
                    path: [...path, index],
                    message: `"${env}" is this stack's own environment: it is always attached`,
                });
            }
        });
    checkReachableFrom(config.reachableFrom, ["reachableFrom"]);

    const seenNames = new Set<string>();
    config.apps.forEach((app, index) => {
        const path = ["apps", index];
        if (seenNames.has(app.name)) {
            ctx.addIssue({ code: "custom", path: [...path, "name"], message: `app "${app.name}" is declared twice` });
        }
        seenNames.add(app.name);
        if (app.reachableFrom !== undefined) {
            checkReachableFrom(app.reachableFrom, [...path, "reachableFrom"]);
        }
        if (app.shareLoadBalancerWith === undefined) {
            return;
        }
        const ownerIndex = ownerIndexOf(config, app, index);
        const owner = config.apps[ownerIndex];
        if (app.shareLoadBalancerWith === app.name) {
            ctx.addIssue({
                code: "custom",
                path: [...path, "shareLoadBalancerWith"],
                message: `an app cannot share its own LB: remove shareLoadBalancerWith, or name another app`,
            });
        } else if (owner === undefined) {
            ctx.addIssue({
                code: "custom",
                path: [...path, "shareLoadBalancerWith"],
                message: `no app "${app.shareLoadBalancerWith}" in this stack: name one of ${config.apps
                    .filter((other) => other !== app)
                    .map((other) => other.name)
                    .join(", ")}`,
            });
        } else if (owner.shareLoadBalancerWith !== undefined) {
            ctx.addIssue({
                code: "custom",
                path: [...path, "shareLoadBalancerWith"],
                message: `app "${owner.name}" itself shares the LB of "${owner.shareLoadBalancerWith}": name the app that owns the LB, "${owner.shareLoadBalancerWith}"`,
            });
        }
        for (const setting of ["zone", "lbType", "lbTags"] as const) {
            if (app[setting] !== undefined) {
                ctx.addIssue({
                    code: "custom",
                    path: [...path, setting],
                    message: `app "${app.name}" shares the LB of "${app.shareLoadBalancerWith}": set ${setting} on "${app.shareLoadBalancerWith}" instead, or drop shareLoadBalancerWith`,
                });
            }
        }
    });
    if (!isPlannable(config)) {
        return;
    }
    let namesValid = true;
    config.apps.forEach((app, index) => {
        if (app.shareLoadBalancerWith === undefined) {
            try {
                loadBalancerName(config.environment, app.name);
            } catch (error) {
                namesValid = false;
                ctx.addIssue({ code: "custom", path: ["apps", index, "name"], message: (error as Error).message });
            }
        }
    });
    if (!namesValid) {
        return;
    }

    const plans = appPlans(config);
    // Per LB: attached networks (count, region), ports of the apps on it.
    for (const lb of loadBalancerPlans(config)) {
        const ownerIndex = config.apps.findIndex((app) => app.name === lb.owner);
        if (lb.environments.length > MAX_PRIVATE_NETWORKS_PER_LB) {
            ctx.addIssue({
                code: "custom",
                path: config.apps[ownerIndex].reachableFrom !== undefined ? ["apps", ownerIndex, "reachableFrom"] : ["reachableFrom"],
                message: `the LB ${lb.name} would attach ${lb.environments.length} private networks: an LB accepts at most ${MAX_PRIVATE_NETWORKS_PER_LB}`,
            });
        }
        const region = regionOfZone(lb.zone);
        for (const env of lb.environments) {
            const networkRegion = /^([a-z]{2}-[a-z]{3})\/[0-9a-f-]{36}$/i.exec(config.environments[env]?.privateNetworkId ?? "")?.[1];
            if (networkRegion !== undefined && networkRegion !== region) {
                ctx.addIssue({
                    code: "custom",
                    path: ["environments", env, "privateNetworkId"],
                    message: `is in region ${networkRegion} but the LB ${lb.name} is in zone ${lb.zone} (region ${region}): an LB can only attach networks of its own region`,
                });
            }
        }
        const portOwners = new Map<number, string>();
        plans.forEach((plan, index) => {
            if (plan.loadBalancer.owner !== lb.owner) {
                return;
            }
            for (const lbPort of new Set(lbPortsOf(plan.app))) {
                const holder = portOwners.get(lbPort);
                if (holder !== undefined) {
                    ctx.addIssue({
                        code: "custom",
                        path: ["apps", index],
                        message: `LB port ${lbPort} is already used by app "${holder}" on the LB ${lb.name} it shares: give the apps of one LB distinct httpsPort and extra ports`,
                    });
                }
                portOwners.set(lbPort, plan.app.name);
            }
        });
    }
    plans.forEach((plan, index) => {
        const adoptedZone = parseZonedId(plan.app.adoptCertificateId ?? "")?.zone;
        if (adoptedZone !== undefined && adoptedZone !== plan.loadBalancer.zone) {
            ctx.addIssue({
                code: "custom",
                path: ["apps", index, "adoptCertificateId"],
                message: `is in zone ${adoptedZone} but the app's LB ${plan.loadBalancer.name} is in ${plan.loadBalancer.zone}: adopt a certificate of that LB`,
            });
        }
        const attached = plan.loadBalancer.environments;
        (plan.app.reachableFrom ?? []).forEach((env, position) => {
            if (plan.app.shareLoadBalancerWith !== undefined && !attached.includes(env)) {
                ctx.addIssue({
                    code: "custom",
                    path: ["apps", index, "reachableFrom", position],
                    message: `the LB of "${plan.loadBalancer.owner}" that this app shares is not attached to "${env}": add "${env}" to the reachableFrom of "${plan.loadBalancer.owner}", or drop it here`,
                });
            }
        });
        if (isDnsLabel(plan.app.name)) {
            for (const env of plan.environments) {
                try {
                    appFqdn(plan.app.name, config.environments[env].domain);
                } catch (error) {
                    ctx.addIssue({ code: "custom", path: ["apps", index, "name"], message: (error as Error).message });
                }
            }
        }
    });
});

/**
 * True when every app's LB and environments can be worked out: the names, zones and environments they
 * refer to are valid (each bad one is reported by its own field; the checks that need the plan wait).
 */
function isPlannable(config: ParsedShape): boolean {
    const referenced = [config.environment, ...config.reachableFrom, ...config.apps.flatMap((app) => app.reachableFrom ?? [])];
    const names = config.apps.map((app) => app.name);
    return (
        SLUG.test(config.environment) &&
        referenced.every((env) => env in config.environments) &&
        names.every(isDnsLabel) &&
        new Set(names).size === names.length &&
        [config.zone, ...config.apps.map((app) => app.zone ?? config.zone)].every(isLbZone) &&
        config.apps.every((app, index) => {
            const owner = config.apps[ownerIndexOf(config, app, index)];
            return (
                app.shareLoadBalancerWith === undefined ||
                (owner !== undefined && owner !== app && owner.shareLoadBalancerWith === undefined)
            );
        })
    );
}

export type StackConfig = z.output<typeof stackConfigSchema>;
export type EnvironmentConfig = StackConfig["environments"][string];
export type AppConfig = StackConfig["apps"][number];

/** One private LB of the stack: the LB of `owner`, shared by the apps that name it in `shareLoadBalancerWith`. */
export interface LoadBalancerPlan {
    /** The app the LB is named after. */
    owner: string;
    /** `private-lb-<env>-<owner>`. */
    name: string;
    zone: string;
    type: string;
    tags: string[];
    /** Environments whose private networks are attached: the stack's own first. */
    environments: string[];
}

export interface AppPlan {
    app: AppConfig;
    loadBalancer: LoadBalancerPlan;
    /** Environments the app answers in (an A record and a certificate name each): the stack's own first. */
    environments: string[];
}

function withOwnFirst(config: StackConfig, reachableFrom: readonly string[]): string[] {
    return [config.environment, ...new Set(reachableFrom.filter((env) => env !== config.environment))];
}

function loadBalancerPlanOf(config: StackConfig, owner: AppConfig): LoadBalancerPlan {
    return {
        owner: owner.name,
        name: loadBalancerName(config.environment, owner.name),
        zone: owner.zone ?? config.zone,
        type: owner.lbType ?? config.lbType,
        tags: owner.lbTags ?? config.lbTags,
        environments: withOwnFirst(config, owner.reachableFrom ?? config.reachableFrom),
    };
}

/** The LBs of the stack, in the order of their owners in `apps`. */
export function loadBalancerPlans(config: StackConfig): LoadBalancerPlan[] {
    return config.apps.filter((app) => app.shareLoadBalancerWith === undefined).map((owner) => loadBalancerPlanOf(config, owner));
}

/** Each app with its LB and the environments it answers in, in the order of `apps`. */
export function appPlans(config: StackConfig): AppPlan[] {
    const lbs = new Map(loadBalancerPlans(config).map((lb) => [lb.owner, lb]));
    return config.apps.map((app) => {
        const loadBalancer = lbs.get(app.shareLoadBalancerWith ?? app.name) as LoadBalancerPlan;
        const environments =
            app.shareLoadBalancerWith !== undefined && app.reachableFrom !== undefined
                ? withOwnFirst(config, app.reachableFrom)
                : loadBalancer.environments;
        return { app, loadBalancer, environments };
    });
}

/** Every LB port an app's Service opens: its TLS port first, then its extra ports. */
export function lbPortsOf(app: AppConfig): number[] {
    return [app.httpsPort, ...app.extraPorts.map((extra) => extra.port)];
}

export class ConfigError extends Error {
    constructor(readonly problems: string[]) {
        super(`invalid stack configuration:\n  - ${problems.join("\n  - ")}`);
        this.name = "ConfigError";
    }
}

function formatPath(path: readonly PropertyKey[]): string {
    return path
        .reduce<string>((text, part) => (typeof part === "number" ? `${text}[${part}]` : `${text}.${String(part)}`), PROJECT)
        .replace(`${PROJECT}.`, `${PROJECT}:`);
}

function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
    return path.reduce<unknown>(
        (value, key) => (value !== null && typeof value === "object" ? (value as Record<PropertyKey, unknown>)[key] : undefined),
        raw,
    );
}

/** What to write for a required key, by its name (the last part of its path). */
const REQUIRED: Record<string, string> = {
    environment: "name the environment this stack deploys, e.g. prod (a key of environments)",
    environments:
        "declare each environment as <name>: { domain, privateNetworkId or privateNetworkName, cloudflareZoneId or cloudflareZone }",
    apps: "list the apps to expose, each { name, namespace } at least",
    acmeEmail: "give the contact email of the ACME account",
    domain: "give the environment's DNS suffix, e.g. prod.example.com",
    name: "give the app's hostname label, e.g. test for test.<environment domain>",
    namespace: "give the Kubernetes namespace of the app's Service",
    port: "give the LB port",
};

/** Why a key is refused outright, for keys people write from habit or from the old layout. */
const REFUSED_KEYS: Record<string, string> = {
    proxied:
        "records are never proxied, by design: they point at the LB's private IPs, which Cloudflare's proxy cannot reach (and a proxied admin name would be public); remove proxied",
    domain: "the stack-level domain is gone: each app has its own LB named private-lb-<environment>-<app name>; remove domain (to keep today's LB, see the README's Migrating section)",
};

function describeType(expected: string): string {
    switch (expected) {
        case "string":
            return "text";
        case "number":
            return "a number";
        case "array":
            return "a list";
        case "record":
        case "object":
            return "a map";
        default:
            return expected;
    }
}

function closest(key: string, candidates: readonly string[]): string | undefined {
    const distance = (a: string, b: string) => {
        const row = Array.from({ length: b.length + 1 }, (_, i) => i);
        for (let i = 1; i <= a.length; i += 1) {
            let previous = row[0];
            row[0] = i;
            for (let j = 1; j <= b.length; j += 1) {
                const current = row[j];
                row[j] = Math.min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1].toLowerCase() === b[j - 1].toLowerCase() ? 0 : 1));
                previous = current;
            }
        }
        return row[b.length];
    };
    const best = candidates.map((candidate) => ({ candidate, d: distance(key, candidate) })).sort((x, y) => x.d - y.d)[0];
    return best !== undefined && best.d <= Math.max(2, Math.floor(key.length / 4)) ? best.candidate : undefined;
}

/** The keys a strict object at `path` accepts. */
function keysAt(path: readonly PropertyKey[]): string[] {
    const last = path.at(-1);
    if (path.length === 0) {
        return Object.keys(stackConfigShape.shape);
    }
    if (path[0] === "environments" && path.length === 2) {
        return Object.keys(environmentSchema.shape);
    }
    if (path[0] === "apps" && path.length === 2) {
        return Object.keys(appSchema.shape);
    }
    if (last === "ccm") {
        return Object.keys(PASS_THROUGH_ANNOTATIONS);
    }
    if (path[0] === "apps" && path[2] === "extraPorts") {
        return Object.keys(extraPortSchema.shape);
    }
    return [];
}

function issueMessages(issue: z.core.$ZodIssue, raw: unknown): string[] {
    const at = formatPath(issue.path);
    switch (issue.code) {
        case "unrecognized_keys":
            return issue.keys.map((key) => {
                const refused = REFUSED_KEYS[key];
                if (refused !== undefined && (key !== "domain" || issue.path.length === 0)) {
                    return `${formatPath([...issue.path, key])}: ${refused}`;
                }
                const suggestion = closest(key, keysAt(issue.path));
                return `${formatPath([...issue.path, key])}: unknown key: ${suggestion ? `did you mean ${suggestion}?` : "check it against the README's configuration reference"}`;
            });
        case "invalid_key":
            return [
                `${formatPath(issue.path.slice(0, -1))}: "${String(issue.path.at(-1))}" is not a valid name: ${issue.issues.map((inner) => inner.message.replace(/^must be an environment name: /, "use ")).join("; ")}`,
            ];
        case "invalid_type": {
            const value = valueAt(raw, issue.path);
            if (value === undefined) {
                const hint = REQUIRED[String(issue.path.at(-1))];
                return [`${at}: is required${hint ? `: ${hint}` : ` (${describeType(issue.expected)})`}`];
            }
            if (!issue.message.startsWith("Invalid input")) {
                return [`${at}: ${issue.message}`];
            }
            if (issue.expected === "string" && typeof value === "number") {
                return [
                    `${at}: must be text, not the number ${value}: quote it in the stack file ("${value}"), YAML reads bare digits as a number`,
                ];
            }
            // `pulumi config set key '{...}'` stores a string: structured values need --path or the stack file.
            const structured = ["array", "record", "object"].includes(issue.expected) && typeof value === "string";
            const shown = typeof value === "string" ? `the text "${value}"` : JSON.stringify(value);
            return [
                `${at}: must be ${describeType(issue.expected)}, not ${shown}${structured ? "; write it as YAML in Pulumi.<stack>.yaml or set it with `pulumi config set --path`" : ""}`,
            ];
        }
        default:
            return [`${at}: ${issue.message}`];
    }
}

function schemaProblems(raw: Record<string, unknown>): { config?: StackConfig; problems: string[] } {
    const result = stackConfigSchema.safeParse(raw);
    return result.success
        ? { config: result.data, problems: [] }
        : { problems: result.error.issues.flatMap((issue) => issueMessages(issue, raw)) };
}

/** Validates already-decoded config values (objects as objects, numbers as numbers). */
export function parseStackConfig(raw: Record<string, unknown>): StackConfig {
    const { config, problems } = schemaProblems(raw);
    if (config === undefined) {
        throw new ConfigError(problems);
    }
    return config;
}

/** Top-level keys whose value is a number; every other simple key is text, whatever its characters. */
export const NUMERIC_KEYS = ["dnsTtl", "renewalMinDaysRemaining"] as const satisfies readonly (keyof typeof stackConfigShape.shape)[];

export interface DecodedConfig {
    values: Record<string, unknown>;
    /** Keys meant for this project but written under another namespace: they would be ignored. */
    problems: string[];
}

/**
 * Pulumi hands every config value to the program as a string (objects JSON-encoded). Takes the whole
 * config map, keeps this project's keys and decodes each as the schema expects it: numbers for the
 * numeric keys, JSON for lists and maps, text for the rest (so `kubeContext: "2024"` stays text).
 */
export function decodePulumiConfig(all: Record<string, string>): DecodedConfig {
    const values: Record<string, unknown> = {};
    const problems: string[] = [];
    const ours = Object.keys(stackConfigShape.shape);
    for (const [fullKey, value] of Object.entries(all)) {
        const colon = fullKey.indexOf(":");
        const namespace = colon < 0 ? undefined : fullKey.slice(0, colon);
        const key = fullKey.slice(colon + 1);
        if (namespace === PROJECT) {
            values[key] = decodeValue(key, value);
        } else if (
            namespace !== undefined &&
            !PROVIDER_NAMESPACES.includes(namespace) &&
            (ours.includes(key) || closest(namespace, [PROJECT]) !== undefined)
        ) {
            problems.push(
                `${fullKey}: "${namespace}" is not this project's namespace, so the key would be ignored: write ${PROJECT}:${key}`,
            );
        }
    }
    return { values, problems };
}

function decodeValue(key: string, value: string): unknown {
    if ((NUMERIC_KEYS as readonly string[]).includes(key) && /^-?[0-9]+(\.[0-9]+)?$/.test(value)) {
        return Number(value);
    }
    if (/^\s*[[{]/.test(value)) {
        try {
            return JSON.parse(value);
        } catch {
            return value;
        }
    }
    return value;
}

/** The whole way from Pulumi's config map to a validated config; every problem reported at once. */
export function stackConfigFromPulumi(all: Record<string, string>): StackConfig {
    const decoded = decodePulumiConfig(all);
    const { config, problems } = schemaProblems(decoded.values);
    if (config === undefined || decoded.problems.length > 0) {
        throw new ConfigError([...decoded.problems, ...problems]);
    }
    return config;
}

/**
 * What the stack config says about one app's certificate; the LB id and the account key come from
 * resources. Names: the app in every environment it answers in, the stack's own first.
 */
export function certificateSettingsFor(config: StackConfig, plan: AppPlan) {
    const zoneNames = plan.environments.map((env) => config.environments[env].cloudflareZone);
    return {
        domains: plan.environments.map((env) => appFqdn(plan.app.name, config.environments[env].domain)),
        zone: plan.loadBalancer.zone,
        email: config.acmeEmail,
        profile: config.certificateProfile,
        keyType: config.certificateKeyType,
        renewal: config.renewalMinDaysRemaining !== undefined ? { minDaysRemaining: config.renewalMinDaysRemaining } : {},
        // The CCM owns the app's frontend: the certificate reaches it through the Service annotation.
        binding: { mode: "annotation" as const, frontendPort: plan.app.httpsPort },
        // `check` can reject a name outside every zone only when all zones are known by name.
        cloudflareZones: zoneNames.every((zone): zone is string => zone !== undefined) ? [...new Set(zoneNames)] : undefined,
        adoptCertificateId: plan.app.adoptCertificateId,
    };
}
