/**
 * The decisions of the `npm start` sandbox, kept pure: what to seed on the local Scaleway and
 * Cloudflare APIs for a stack, which inputs each endpoint's certificate gets (what the AcmeCertificate
 * component would send), when to move the clock for the renewal, and the final table.
 */
import { createHash } from "node:crypto";
import { parseArgs } from "node:util";
import { appPlans, certificateSettingsFor, loadBalancerPlans, type AppPlan, type StackConfig } from "../components/config";
import { defaultServiceName } from "../components/defaults";
import { appFqdn } from "../components/naming";
import { renderTable, shortTime } from "./table";

export const SANDBOX_USAGE = `usage: npm start [-- --stack <stack>] [--keep]
  --stack <stack>  the stack to run: a name (Pulumi.<stack>.yaml; default staging) or a stack file's path
  --keep           keep everything running at the end and print the environment that points
                   \`npm run status\` at it; Ctrl-C then stops everything
Runs the certificate lifecycle locally: Pebble (Let's Encrypt's test CA), a local Scaleway LB API and a
local Cloudflare DNS API on 127.0.0.1, nothing else. Ctrl-C stops everything.`;

export const DEFAULT_SANDBOX_STACK = "staging";
/** Let's Encrypt's classic lifetime, so renewal dates look like production ones. */
export const SANDBOX_CERTIFICATE_LIFETIME_SECONDS = 90 * 86_400;
/** How far past the latest renewal date the sandbox moves the provider's clock. */
const PAST_DUE_MS = 60_000;

export type ParsedSandboxArgs = { ok: true; stack: string; keep: boolean } | { ok: false; help: boolean; message: string };

export function parseSandboxArgs(argv: readonly string[]): ParsedSandboxArgs {
    try {
        const { values } = parseArgs({
            args: [...argv],
            options: {
                stack: { type: "string", short: "s", default: DEFAULT_SANDBOX_STACK },
                keep: { type: "boolean", default: false },
                help: { type: "boolean", short: "h", default: false },
            },
            strict: true,
        });
        return values.help ? { ok: false, help: true, message: SANDBOX_USAGE } : { ok: true, stack: values.stack, keep: values.keep };
    } catch (error) {
        return { ok: false, help: false, message: `${(error as Error).message}\n${SANDBOX_USAGE}` };
    }
}

/** A UUID derived from text, so a network declared by name gets the same local id on every run. */
export function stableUuid(text: string): string {
    const hex = createHash("sha1").update(text).digest("hex");
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

export interface NetworkSeed {
    environment: string;
    /** Bare UUID. */
    privateNetworkId: string;
    /** Set when the stack looks the network up by name. */
    name?: string;
    /** The LB's address in it. */
    ip: string;
}

export interface FrontendSeed {
    app: string;
    port: number;
    /** Named the way the CCM names its frontends: `<service uid>_tcp_<port>`. */
    name: string;
}

export interface CloudflareZoneSeed {
    name: string;
    id?: string;
}

export interface ARecordSeed {
    zone: string;
    fqdn: string;
    ip: string;
}

export interface LoadBalancerSeed {
    /** The app the LB is named after. */
    owner: string;
    name: string;
    zone: string;
    networks: NetworkSeed[];
    /** One per app on the LB (its own and those sharing it). */
    frontends: FrontendSeed[];
}

export interface SeedPlan {
    loadBalancers: LoadBalancerSeed[];
    zones: CloudflareZoneSeed[];
    aRecords: ARecordSeed[];
}

/** What `pulumi up` plus the CCM would have put in place before the first certificate: one LB per app that owns one. */
export function seedPlanOf(config: StackConfig): SeedPlan {
    const environmentIndex = (environment: string) => Object.keys(config.environments).indexOf(environment);
    const networkOf = (environment: string, lbIndex: number): NetworkSeed => {
        const declared = config.environments[environment];
        const privateNetworkId =
            declared.privateNetworkId?.split("/").pop() ?? stableUuid(`private-network:${declared.privateNetworkName}`);
        return {
            environment,
            privateNetworkId,
            name: declared.privateNetworkName,
            ip: `172.16.${environmentIndex(environment) * 4}.${10 + lbIndex}`,
        };
    };
    const plans = appPlans(config);
    const loadBalancers = loadBalancerPlans(config).map((lb, lbIndex) => ({
        owner: lb.owner,
        name: lb.name,
        zone: lb.zone,
        networks: lb.environments.map((environment) => networkOf(environment, lbIndex)),
        frontends: plans
            .filter((plan) => plan.loadBalancer.owner === lb.owner)
            .map(({ app }) => ({
                app: app.name,
                port: app.httpsPort,
                name: `${stableUuid(`service:${app.namespace}/${app.serviceName ?? defaultServiceName(app.name)}`)}_tcp_${app.httpsPort}`,
            })),
    }));
    const zoneNameOf = (environment: string) => config.environments[environment].cloudflareZone ?? config.environments[environment].domain;
    const zones = new Map<string, CloudflareZoneSeed>();
    for (const environment of new Set(plans.flatMap((plan) => plan.environments))) {
        const name = zoneNameOf(environment);
        zones.set(name, {
            name,
            ...(config.environments[environment].cloudflareZoneId ? { id: config.environments[environment].cloudflareZoneId } : {}),
        });
    }
    const seedOf = new Map(loadBalancers.map((lb) => [lb.owner, lb]));
    return {
        loadBalancers,
        zones: [...zones.values()],
        aRecords: plans.flatMap((plan) =>
            plan.environments.map((environment) => ({
                zone: zoneNameOf(environment),
                fqdn: appFqdn(plan.app.name, config.environments[environment].domain),
                ip: seedOf.get(plan.loadBalancer.owner)?.networks.find((network) => network.environment === environment)?.ip as string,
            })),
        ),
    };
}

export interface LocalAcme {
    directoryUrl: string;
    accountKeyPem: string;
    /** challtestsrv, the DNS Pebble validates against: where the propagation check must look. */
    dnsResolver: string;
}

/**
 * The raw inputs of an endpoint's certificate resource, as the AcmeCertificate component sends them
 * before `check` fills the defaults: every name of the app (its own environment first), annotation binding
 * on the app's TLS port, the stack's renewal and key settings, and the local ACME CA instead of the stack's.
 */
export function certificateInputsFor(config: StackConfig, plan: AppPlan, loadBalancerId: string, acme: LocalAcme): Record<string, unknown> {
    const inputs: Record<string, unknown> = {
        ...certificateSettingsFor(config, plan),
        loadBalancerId,
        acmeDirectoryUrl: acme.directoryUrl,
        accountKeyPem: acme.accountKeyPem,
        dnsResolvers: [acme.dnsResolver],
    };
    // The engine never sends undefined values.
    return Object.fromEntries(Object.entries(inputs).filter(([, value]) => value !== undefined));
}

/** The clock the renewal pass runs at: just past the latest renewal date, so every certificate is due. */
export function renewalClock(renewalDueAts: readonly string[]): Date {
    return new Date(Math.max(...renewalDueAts.map((due) => Date.parse(due))) + PAST_DUE_MS);
}

export function formatDuration(ms: number): string {
    return ms < 1_000 ? `${Math.round(ms)} ms` : `${(ms / 1_000).toFixed(1)} s`;
}

export interface EndpointSummary {
    app: string;
    domains: string[];
    certificateId: string;
    notAfter: string;
    renewalDueAt: string;
    /** Frontends carrying the certificate, `<name> (:<port>)`. */
    boundTo: string[];
    /** The predecessor the renewal replaced and deleted (zoned id). */
    replaced: string;
    scalewayCalls: number;
    cloudflareCalls: number;
}

export function renderSandboxSummary(endpoints: readonly EndpointSummary[]): string {
    return renderTable(
        [
            "APP",
            "NAMES",
            "CERTIFICATE",
            "NOT AFTER",
            "RENEW FROM",
            "BOUND FRONTEND",
            "REPLACED (DELETED)",
            "SCALEWAY CALLS",
            "CLOUDFLARE CALLS",
        ],
        endpoints.map((endpoint) => [
            endpoint.app,
            endpoint.domains.join(", "),
            endpoint.certificateId,
            shortTime(endpoint.notAfter),
            shortTime(endpoint.renewalDueAt),
            endpoint.boundTo.join(", ") || "none",
            endpoint.replaced,
            String(endpoint.scalewayCalls),
            String(endpoint.cloudflareCalls),
        ]),
    );
}

/**
 * What the local CA does differently from the stack's: Pebble 2.4 ignores ACME profiles (docs/pebble.md),
 * so a stack asking for one still gets the sandbox's fixed lifetime. One line per profile, naming its apps.
 */
export function localCaWarnings(config: StackConfig): string[] {
    const appsByProfile = new Map<string, string[]>();
    for (const plan of appPlans(config)) {
        const { profile } = certificateSettingsFor(config, plan);
        if (profile !== undefined) {
            appsByProfile.set(profile, [...(appsByProfile.get(profile) ?? []), plan.app.name]);
        }
    }
    const days = SANDBOX_CERTIFICATE_LIFETIME_SECONDS / 86_400;
    return [...appsByProfile].map(
        ([profile, apps]) =>
            `! Pebble ignores ACME profiles: the stack asks for the "${profile}" profile (${apps.join(", ")}), but the sandbox issues ${days}-day certificates; ` +
            "Let's Encrypt would issue the profile's own lifetime, and renew on that schedule",
    );
}

/** The variables `npm run status` reads, pointing at the sandbox's local APIs (no secret of a real account). */
const STATUS_VARIABLES = ["SCW_ACCESS_KEY", "SCW_SECRET_KEY", "SCW_API_URL", "CLOUDFLARE_API_TOKEN", "CLOUDFLARE_BASE_URL"] as const;

/** What `--keep` prints: how to run `status` against the sandbox from another terminal. */
export function keptSandboxLines(stack: string, env: Readonly<Record<string, string>>): string[] {
    return [
        "The sandbox keeps running (--keep). To try `npm run status` against it, in another terminal:",
        `  export ${STATUS_VARIABLES.map((name) => `${name}=${env[name] ?? ""}`).join(" ")}`,
        `  npm run status -- --stack ${stack}`,
        "Press Ctrl-C here to stop everything.",
    ];
}
