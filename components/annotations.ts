/**
 * Annotations that make the Scaleway CCM drive an externally managed, private LB
 * (docs/scaleway-ccm.md).
 */

export const ANNOTATION_PREFIX = "service.beta.kubernetes.io/";

const DURATION = /^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$/;
const PORT_LIST = /^[0-9]+(,[0-9]+)*$/;

type Check = (value: string) => string | undefined;

const oneOf =
    (...allowed: string[]): Check =>
    (value) =>
        allowed.includes(value) ? undefined : `must be one of ${allowed.join(", ")}`;
const duration: Check = (value) => (DURATION.test(value) ? undefined : `must be a Go duration such as 5s, 500ms, 10m or 1h30m`);
const nonNegativeInteger: Check = (value) => (/^[0-9]+$/.test(value) ? undefined : `must be a whole number (0 or more)`);
const nonEmpty: Check = (value) => (value.trim() !== "" ? undefined : `must not be empty`);
const portSelection: Check = (value) =>
    ["true", "false", "*"].includes(value) || PORT_LIST.test(value)
        ? undefined
        : `must be true, false, * or a comma-separated list of service ports such as 443,8443`;

interface PortScopedValue {
    ports: number[];
    value: string;
}

/** `80:http;443,8443:https` -> entries; undefined when the value is not in the per-port form. */
function parsePerPort(value: string): PortScopedValue[] | undefined {
    const entries = value.split(";").map((entry) => /^([0-9]+(?:,[0-9]+)*):(.+)$/.exec(entry.trim()));
    if (entries.some((entry) => entry === null)) {
        return undefined;
    }
    return (entries as RegExpExecArray[]).map(([, ports, scoped]) => ({ ports: ports.split(",").map(Number), value: scoped }));
}

/** The health-check settings take one value for every port, or `<ports>:<value>` entries (CCM docs). */
const perPort =
    (check: Check): Check =>
    (value) => {
        const entries = parsePerPort(value);
        if (entries === undefined) {
            const problem = check(value);
            return problem && `${problem} (or per port, as in 80:<value>;443,8443:<value>)`;
        }
        return entries.map((entry) => check(entry.value)).find((problem) => problem !== undefined);
    };

/** The values a setting gives, whatever port they apply to. */
function valuesOf(value: string | undefined): string[] {
    if (value === undefined) {
        return [];
    }
    return parsePerPort(value)?.map((entry) => entry.value) ?? [value];
}

/** The ports a setting names explicitly. */
function portsNamedBy(setting: PassThroughSetting, value: string): number[] {
    if (PORT_SELECTION_SETTINGS.includes(setting)) {
        return PORT_LIST.test(value) ? value.split(",").map(Number) : [];
    }
    return parsePerPort(value)?.flatMap((entry) => entry.ports) ?? [];
}

/**
 * The documented CCM settings a stack may pass through, keyed by the camelCase name used in config.
 * The key of the annotation is `scw-loadbalancer-<kebab-case name>`.
 */
export const PASS_THROUGH_ANNOTATIONS = {
    forwardPortAlgorithm: oneOf("roundrobin", "leastconn"),
    stickySessions: oneOf("none", "cookie", "table"),
    stickySessionsCookieName: nonEmpty,
    healthCheckType: perPort(oneOf("tcp", "http", "https", "mysql", "pgsql", "redis", "ldap")),
    healthCheckDelay: duration,
    healthTransientCheckDelay: duration,
    healthCheckTimeout: duration,
    healthCheckMaxRetries: nonNegativeInteger,
    healthCheckHttpUri: perPort((value) => (value.startsWith("/") ? undefined : `must be a path starting with /`)),
    healthCheckHttpMethod: perPort(oneOf("GET", "HEAD", "POST", "PUT", "OPTIONS")),
    healthCheckHttpCode: perPort((value) => (/^[1-5][0-9]{2}$/.test(value) ? undefined : `must be an HTTP status code such as 200`)),
    healthCheckMysqlUser: perPort(nonEmpty),
    healthCheckPgsqlUser: perPort(nonEmpty),
    proxyProtocolV1: portSelection,
    proxyProtocolV2: portSelection,
    protocolHttp: portSelection,
    timeoutClient: duration,
    timeoutServer: duration,
    timeoutConnect: duration,
    timeoutTunnel: duration,
    onMarkedDownAction: oneOf("on_marked_down_action_none", "shutdown_sessions"),
    redispatchAttemptCount: nonNegativeInteger,
    maxRetries: nonNegativeInteger,
} satisfies Record<string, Check>;

export type PassThroughSetting = keyof typeof PASS_THROUGH_ANNOTATIONS;
const PORT_SELECTION_SETTINGS: readonly PassThroughSetting[] = ["proxyProtocolV1", "proxyProtocolV2", "protocolHttp"];
export type PassThroughSettings = Partial<Record<PassThroughSetting, string>>;

export function annotationKey(setting: PassThroughSetting): string {
    return `${ANNOTATION_PREFIX}scw-loadbalancer-${setting.replace(/([A-Z])/g, "-$1").toLowerCase()}`;
}

/** Problems with the pass-through settings, as messages naming the setting; empty when valid. */
export function validatePassThroughSettings(settings: PassThroughSettings, servicePorts: number[]): string[] {
    const problems: string[] = [];
    for (const [setting, value] of Object.entries(settings) as [PassThroughSetting, string][]) {
        const problem = PASS_THROUGH_ANNOTATIONS[setting](value);
        if (problem) {
            problems.push(`${setting}: "${value}" ${problem}`);
            continue;
        }
        const unknown = portsNamedBy(setting, value).filter((port) => !servicePorts.includes(port));
        if (unknown.length > 0) {
            problems.push(`${setting}: port(s) ${unknown.join(", ")} are not ports of this Service (${servicePorts.join(", ")})`);
        }
    }
    if (settings.stickySessions === "cookie" && !settings.stickySessionsCookieName) {
        problems.push(`stickySessionsCookieName: required when stickySessions is "cookie"`);
    }
    // The CCM needs these companions for the check types it is given (CCM docs, "NB: Required when").
    const types = valuesOf(settings.healthCheckType);
    const companions: [string, PassThroughSetting[]][] = [
        ["http", ["healthCheckHttpUri", "healthCheckHttpMethod", "healthCheckHttpCode"]],
        ["https", ["healthCheckHttpUri", "healthCheckHttpMethod", "healthCheckHttpCode"]],
        ["mysql", ["healthCheckMysqlUser"]],
        ["pgsql", ["healthCheckPgsqlUser"]],
    ];
    const required = new Map<PassThroughSetting, string>();
    for (const [type, settingsNeeded] of companions) {
        if (types.includes(type)) {
            settingsNeeded.forEach((needed) => required.has(needed) || required.set(needed, type));
        }
    }
    for (const [needed, type] of required) {
        if (!settings[needed]) {
            problems.push(`${needed}: required when healthCheckType uses "${type}"`);
        }
    }
    return problems;
}

/** What can be checked before the LB and certificate ids are known. */
export function serviceSettingsProblems(httpsPort: number, settings: PassThroughSettings, servicePorts: number[]): string[] {
    const problems = validatePassThroughSettings(settings, servicePorts);
    if (httpsPort === 80) {
        problems.unshift(`httpsPort: a certificate mapping on port 80 is refused: plain HTTP stays on 80, TLS needs its own port (443)`);
    }
    return problems;
}

export interface CcmAnnotationArgs {
    /** `<zone>/<uuid>` of the LB. */
    loadBalancerId: string;
    zone: string;
    /** The port that terminates TLS on the LB (443 unless several apps share the LB). */
    httpsPort: number;
    /** LB certificate id (bare or zoned) to bind to `httpsPort`. */
    certificateId?: string;
    settings?: PassThroughSettings;
}

/**
 * The full annotation set for an externally managed private LB. Throws with the list of problems
 * so that a bad stack fails before anything is created.
 */
export function buildCcmAnnotations(args: CcmAnnotationArgs, servicePorts: number[] = [args.httpsPort]): Record<string, string> {
    const problems: string[] = [];
    const [zoneOfId] = args.loadBalancerId.split("/");
    if (!/^[a-z]{2}-[a-z]{3}-[1-9]\/[0-9a-f-]{36}$/i.test(args.loadBalancerId)) {
        problems.push(`loadBalancerId: "${args.loadBalancerId}" must be <zone>/<uuid>`);
    } else if (zoneOfId !== args.zone) {
        problems.push(`zone: the LB id is in ${zoneOfId} but the zone annotation says ${args.zone}`);
    }
    if (args.certificateId !== undefined && !/^([a-z]{2}-[a-z]{3}-[1-9]\/)?[0-9a-f-]{36}$/i.test(args.certificateId)) {
        problems.push(`certificateId: "${args.certificateId}" must be an LB certificate id (<uuid> or <zone>/<uuid>)`);
    }
    problems.push(...serviceSettingsProblems(args.httpsPort, args.settings ?? {}, servicePorts));
    if (problems.length > 0) {
        throw new Error(`invalid CCM annotations:\n  - ${problems.join("\n  - ")}`);
    }

    const annotations: Record<string, string> = {
        [`${ANNOTATION_PREFIX}scw-loadbalancer-externally-managed`]: "true",
        [`${ANNOTATION_PREFIX}scw-loadbalancer-id`]: args.loadBalancerId,
        [`${ANNOTATION_PREFIX}scw-loadbalancer-zone`]: args.zone,
        [`${ANNOTATION_PREFIX}scw-loadbalancer-private`]: "true",
    };
    if (args.certificateId !== undefined) {
        // Always port-scoped: a bare id would also be pushed to port 80 (docs/scaleway-ccm.md §2).
        annotations[`${ANNOTATION_PREFIX}scw-loadbalancer-certificate-ids`] = `${args.httpsPort}:${args.certificateId}`;
    }
    for (const [setting, value] of Object.entries(args.settings ?? {}) as [PassThroughSetting, string][]) {
        annotations[annotationKey(setting)] = value;
    }
    return annotations;
}
