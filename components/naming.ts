/**
 * Naming rules of the private entrance. Pure functions: they decide names and refuse bad ones with a
 * message that says what to fix, so a bad stack fails at `pulumi preview`.
 */

import { Lbv1 } from "@scaleway/sdk-lb";
import { parseZonedId as parseZonedIdOrUndefined, UUID_PATTERN, ZONE_PATTERN } from "./certificate/ids";

const LB_LOCALITY = Lbv1.ZonedAPI.LOCALITY;

export const LOAD_BALANCER_NAME_PREFIX = "private-lb";
const MAX_LOAD_BALANCER_NAME_LENGTH = 63;
const LOWERCASE_SLUG = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
// The Scaleway CCM refuses an LB whose name starts with the cluster id (a UUID) (docs/scaleway-ccm.md §1).
const UUID_PREFIX = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;
const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * Naming convention of the manual procedure (docs/manual-procedure.md), one LB per app: `private-lb-<env>-<app>`, where the app is the domain
 * without extension (`private-lb-prod-test` for `test.<prod domain>`).
 */
export function loadBalancerName(environment: string, app: string): string {
    return validateLoadBalancerName(`${LOAD_BALANCER_NAME_PREFIX}-${environment}-${app}`);
}

export function validateLoadBalancerName(name: string): string {
    if (UUID_PREFIX.test(name)) {
        throw new Error(
            `load balancer name "${name}" starts with a UUID: the Scaleway CCM refuses LBs whose name starts with a cluster id; ` +
                `use the private-lb-<env>-<app> convention`,
        );
    }
    if (!LOWERCASE_SLUG.test(name)) {
        throw new Error(
            `load balancer name "${name}" is invalid: use lowercase letters, digits and hyphens, starting and ending with a letter or digit`,
        );
    }
    if (name.length > MAX_LOAD_BALANCER_NAME_LENGTH) {
        throw new Error(
            `load balancer name "${name}" is ${name.length} characters long: at most ${MAX_LOAD_BALANCER_NAME_LENGTH} are allowed; shorten the environment or the app name`,
        );
    }
    return name;
}

export function isZone(value: string): boolean {
    return ZONE_PATTERN.test(value);
}

/** The zones the Scaleway LB API serves (the SDK's own list: `Lbv1.ZonedAPI.LOCALITY`, see docs/per-app-load-balancers.md). */
export const LB_ZONES: readonly string[] = LB_LOCALITY.type === "zone" ? LB_LOCALITY.zones : [];

export function isLbZone(value: string): boolean {
    return LB_ZONES.includes(value);
}

/** `fr-par-1` -> `fr-par`: IPAM and private networks are regional. */
export function regionOfZone(zone: string): string {
    if (!isZone(zone)) {
        throw new Error(`zone "${zone}" is invalid: expected the form fr-par-1, nl-ams-2, pl-waw-3`);
    }
    return zone.slice(0, zone.lastIndexOf("-"));
}

export interface ZonedId {
    zone: string;
    id: string;
}

/** Splits `<zone>/<uuid>` (what the Scaleway provider and the CCM annotation use). */
export function parseZonedId(value: string): ZonedId {
    const parsed = parseZonedIdOrUndefined(value);
    if (parsed === undefined) {
        throw new Error(`"${value}" is not a zoned id: expected <zone>/<uuid>, e.g. fr-par-1/0d1b714f-2767-4937-a9e5-4399cfd45338`);
    }
    return { zone: parsed.zone, id: parsed.uuid };
}

export function isUuid(value: string): boolean {
    return UUID_PATTERN.test(value);
}

export function isDnsLabel(value: string): boolean {
    return DNS_LABEL.test(value);
}

export function isDomainName(value: string): boolean {
    const labels = value.split(".");
    return value.length <= 253 && labels.length >= 2 && labels.every(isDnsLabel);
}

/** The admin hostname of an app in one environment: `<app>.<environment domain>`. */
export function appFqdn(hostname: string, environmentDomain: string): string {
    const fqdn = `${hostname}.${environmentDomain}`.toLowerCase();
    if (!isDomainName(fqdn)) {
        throw new Error(`"${fqdn}" is not a valid DNS name: check the app hostname and the environment domain`);
    }
    return fqdn;
}

/** True when `name` is `zone` or lies under it. */
export function isWithinZone(name: string, zone: string): boolean {
    return name === zone || name.endsWith(`.${zone}`);
}
