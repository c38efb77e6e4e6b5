/**
 * The decisions of `status`: from what the Scaleway and Cloudflare APIs answered, which problems an
 * operator must act on, the exit code, and the table they read. Pure functions: the API calls live in
 * `scripts/statusSources.ts`.
 */
import { appPlans, loadBalancerPlans, type StackConfig } from "../components/config";
import { renewalDueAt } from "../components/certificate/renewal";
import { DEFAULT_HTTPS_PORT } from "../components/defaults";
import { appFqdn } from "../components/naming";
import { renewalPolicyOf } from "./renewalCadence";
import { renderTable, shortTime } from "./table";

const MS_PER_DAY = 86_400_000;
const MS_PER_HOUR = 3_600_000;
/** The port the CCM annotation examples and the manual procedure use; always treated as a TLS port. */
const DEFAULT_TLS_PORT = DEFAULT_HTTPS_PORT;

export const EXIT_HEALTHY = 0;
export const EXIT_PROBLEMS = 1;
export const EXIT_USAGE = 2;

// ---------------------------------------------------------------------------------------------------
// What the APIs answered

export interface ObservedCertificate {
    /** Bare UUID, as frontends reference it. */
    id: string;
    name: string;
    status: string;
    statusDetails?: string;
    commonName: string;
    subjectAlternativeNames: string[];
    notValidBefore?: string;
    notValidAfter?: string;
}

export interface ObservedFrontend {
    id: string;
    name: string;
    inboundPort: number;
    /** Bare UUIDs. */
    certificateIds: string[];
}

export interface ObservedLoadBalancer {
    /** Bare UUID. */
    id: string;
    name: string;
    zone: string;
    /** The LB's IPv4 address (without prefix length) in each attached private network, by network id. */
    privateIps: Record<string, string>;
    frontends: ObservedFrontend[];
    certificates: ObservedCertificate[];
}

/** An environment's private network: its id, or why it could not be found. */
export type EnvironmentNetwork = { environment: string; privateNetworkId: string } | { environment: string; problem: string };

export interface ARecord {
    content: string;
    proxied: boolean;
}

export type DnsLookup = { records: ARecord[] } | { error: string };

/** One LB the stack declares: the LB of an app, with the apps on it (itself and those sharing it). */
export interface ExpectedLoadBalancer {
    name: string;
    zone: string;
    /** Environments whose private networks it is attached to. */
    environments: string[];
    tlsPorts: TlsPort[];
    /** The admin names of the apps on it, each in each environment it answers in. */
    dnsNames: DnsName[];
}

export interface StatusObservation {
    stack: string;
    environment: string;
    /** Days added to the 1/3-of-lifetime rule (stack config `renewalMinDaysRemaining`). */
    renewalMinDaysRemaining?: number;
    expected: ExpectedLoadBalancer[];
    /** A certificate in use that expires within this many milliseconds is a problem (`--expires-within`). */
    expiresWithinMs?: number;
    /** A certificate past its renewal date is a problem only this long after it (`--renewal-grace`). */
    renewalGraceMs?: number;
    /** The private network of each environment an LB is attached to. */
    networks: EnvironmentNetwork[];
    /** LBs whose name and zone are exactly those of an expected LB. */
    loadBalancers: ObservedLoadBalancer[];
    /** Cloudflare A records by name; absent when the DNS check was skipped. */
    dns?: { lookups: Record<string, DnsLookup> };
    now: Date;
}

export interface TlsPort {
    app: string;
    port: number;
}

export interface DnsName {
    app: string;
    environment: string;
    fqdn: string;
}

// ---------------------------------------------------------------------------------------------------
// The report

export const PROBLEM_KINDS = [
    "load-balancer-missing",
    "private-network-unresolved",
    "private-ip-missing",
    "certificate-expired",
    "certificate-error",
    "certificate-unused",
    "certificate-expiring",
    "renewal-overdue",
    "frontend-several-certificates",
    "tls-frontend-missing",
    "tls-frontend-without-certificate",
    "dns-lookup-failed",
    "dns-record-missing",
    "dns-record-wrong",
    "dns-record-proxied",
] as const;
export type ProblemKind = (typeof PROBLEM_KINDS)[number];

export interface Problem {
    kind: ProblemKind;
    /** The certificate id, frontend name, name or environment the problem is about. */
    subject: string;
    message: string;
}

export interface CertificateLine {
    /** Zoned id `<zone>/<uuid>`. */
    id: string;
    name: string;
    status: string;
    names: string[];
    notAfter?: string;
    daysLeft?: number;
    renewalDueAt?: string;
    /** Frontends carrying it, as `<name> (:<port>)`. */
    usedBy: string[];
}

export interface FrontendLine {
    id: string;
    name: string;
    port: number;
    tls: boolean;
    certificateIds: string[];
}

export interface DnsLine extends DnsName {
    expected?: string;
    actual: string[];
    ok: boolean;
}

export interface LoadBalancerReport {
    /** Zoned id `<zone>/<uuid>`. */
    id: string;
    name: string;
    zone: string;
    /** Private IPv4 by environment. */
    privateIps: Record<string, string>;
    certificates: CertificateLine[];
    frontends: FrontendLine[];
    dns: DnsLine[];
    problems: Problem[];
}

export interface StatusReport {
    stack: string;
    environment: string;
    /** The LBs the stack declares (one per app, unless an app shares another's). */
    expected: { name: string; zone: string }[];
    checkedAt: string;
    dnsChecked: boolean;
    healthy: boolean;
    loadBalancers: LoadBalancerReport[];
    /** Problems not tied to one LB (missing LB, unresolved private networks). */
    problems: Problem[];
}

// ---------------------------------------------------------------------------------------------------
// From the stack config

/** The LBs of the stack, each with the TLS ports and admin names of the apps on it. */
export function expectedLoadBalancersOf(config: StackConfig): ExpectedLoadBalancer[] {
    const plans = appPlans(config);
    return loadBalancerPlans(config).map((lb) => {
        const onIt = plans.filter((plan) => plan.loadBalancer.owner === lb.owner);
        return {
            name: lb.name,
            zone: lb.zone,
            environments: lb.environments,
            tlsPorts: onIt.map((plan) => ({ app: plan.app.name, port: plan.app.httpsPort })),
            dnsNames: onIt.flatMap((plan) =>
                plan.environments.map((environment) => ({
                    app: plan.app.name,
                    environment,
                    fqdn: appFqdn(plan.app.name, config.environments[environment].domain),
                })),
            ),
        };
    });
}

/** Every admin name of the stack: each app in each environment it answers in. */
export function dnsNamesOf(config: StackConfig): DnsName[] {
    return expectedLoadBalancersOf(config).flatMap((lb) => lb.dnsNames);
}

// ---------------------------------------------------------------------------------------------------
// Findings

/** Whole days, rounded toward zero: 88.9 days left shows 88, expired 1.2 days ago shows -1. */
function daysBetween(from: Date, to: Date): number {
    return Math.trunc((to.getTime() - from.getTime()) / MS_PER_DAY);
}

function parsedDate(value: string | undefined): Date | undefined {
    if (value === undefined) {
        return undefined;
    }
    const date = new Date(value);
    return Number.isNaN(date.getTime()) ? undefined : date;
}

function frontendLabel(frontend: ObservedFrontend): string {
    return `${frontend.name} (:${frontend.inboundPort})`;
}

function certificateLine(lb: ObservedLoadBalancer, certificate: ObservedCertificate, observation: StatusObservation): CertificateLine {
    const notBefore = parsedDate(certificate.notValidBefore);
    const notAfter = parsedDate(certificate.notValidAfter);
    const dueAt =
        notBefore && notAfter ? renewalDueAt(notBefore, notAfter, renewalPolicyOf(observation.renewalMinDaysRemaining)) : undefined;
    return {
        id: `${lb.zone}/${certificate.id}`,
        name: certificate.name,
        status: certificate.status,
        names: [certificate.commonName, ...certificate.subjectAlternativeNames.filter((name) => name !== certificate.commonName)].filter(
            Boolean,
        ),
        notAfter: notAfter?.toISOString(),
        daysLeft: notAfter ? daysBetween(observation.now, notAfter) : undefined,
        renewalDueAt: dueAt?.toISOString(),
        usedBy: lb.frontends.filter((frontend) => frontend.certificateIds.includes(certificate.id)).map(frontendLabel),
    };
}

/** `36 h` under two days, `5 days` from then on. */
export function formatSpan(ms: number): string {
    return ms < 2 * MS_PER_DAY ? `${Math.round(ms / MS_PER_HOUR)} h` : `${+(ms / MS_PER_DAY).toFixed(1)} days`;
}

function certificateProblems(line: CertificateLine, certificate: ObservedCertificate, observation: StatusObservation): Problem[] {
    const { now, expiresWithinMs, renewalGraceMs = 0 } = observation;
    const notAfter = parsedDate(line.notAfter);
    if (certificate.status === "error") {
        return [
            {
                kind: "certificate-error",
                subject: line.id,
                message: `certificate ${line.name} is in status error (${certificate.statusDetails ?? "no details"}) and still on the LB`,
            },
        ];
    }
    if (notAfter && notAfter.getTime() <= now.getTime()) {
        return [
            {
                kind: "certificate-expired",
                subject: line.id,
                message: `certificate ${line.name} expired on ${shortTime(line.notAfter)} and is still on the LB`,
            },
        ];
    }
    if (line.usedBy.length === 0) {
        return [
            {
                kind: "certificate-unused",
                subject: line.id,
                message: `certificate ${line.name} is used by no frontend (a left-over: delete it once nothing needs it)`,
            },
        ];
    }
    if (notAfter && expiresWithinMs !== undefined && notAfter.getTime() - now.getTime() <= expiresWithinMs) {
        return [
            {
                kind: "certificate-expiring",
                subject: line.id,
                message:
                    `certificate ${line.name} on ${line.usedBy.join(", ")} expires on ${shortTime(line.notAfter)}, in ${formatSpan(notAfter.getTime() - now.getTime())} ` +
                    `(threshold ${formatSpan(expiresWithinMs)}): run pulumi up, and check that the renewal runs`,
            },
        ];
    }
    const dueAt = parsedDate(line.renewalDueAt);
    if (dueAt && dueAt.getTime() + renewalGraceMs <= now.getTime()) {
        return [
            {
                kind: "renewal-overdue",
                subject: line.id,
                message: `certificate ${line.name} on ${line.usedBy.join(", ")} was due for renewal on ${shortTime(line.renewalDueAt)} (${line.daysLeft} days left): run pulumi up`,
            },
        ];
    }
    return [];
}

function frontendProblems(lb: ObservedLoadBalancer, tlsPorts: readonly TlsPort[]): Problem[] {
    const problems: Problem[] = [];
    const tlsPortNumbers = new Set([DEFAULT_TLS_PORT, ...tlsPorts.map((tls) => tls.port)]);
    for (const frontend of lb.frontends) {
        if (frontend.certificateIds.length > 1) {
            problems.push({
                kind: "frontend-several-certificates",
                subject: frontend.name,
                message: `frontend ${frontendLabel(frontend)} carries ${frontend.certificateIds.length} certificates (${frontend.certificateIds.join(", ")}): the LB picks one per name, keep exactly one`,
            });
        }
        if (tlsPortNumbers.has(frontend.inboundPort) && frontend.certificateIds.length === 0) {
            problems.push({
                kind: "tls-frontend-without-certificate",
                subject: frontend.name,
                message: `TLS frontend ${frontendLabel(frontend)} has no certificate: check the Service's scw-loadbalancer-certificate-ids annotation`,
            });
        }
    }
    for (const tls of tlsPorts) {
        if (!lb.frontends.some((frontend) => frontend.inboundPort === tls.port)) {
            problems.push({
                kind: "tls-frontend-missing",
                subject: `:${tls.port}`,
                message: `no frontend on port ${tls.port} for app ${tls.app}: the CCM has not created it (check the Service and the CCM's events)`,
            });
        }
    }
    return problems;
}

type ResolvedNetwork = Extract<EnvironmentNetwork, { privateNetworkId: string }>;
type UnresolvedNetwork = Extract<EnvironmentNetwork, { problem: string }>;

function isResolved(network: EnvironmentNetwork): network is ResolvedNetwork {
    return "privateNetworkId" in network;
}

function privateIpsByEnvironment(lb: ObservedLoadBalancer, networks: readonly EnvironmentNetwork[]): Record<string, string> {
    const ips: Record<string, string> = {};
    for (const network of networks.filter(isResolved)) {
        const ip = lb.privateIps[network.privateNetworkId];
        if (ip !== undefined) {
            ips[network.environment] = ip;
        }
    }
    return ips;
}

function networkProblems(networks: readonly EnvironmentNetwork[], privateIps: Record<string, string>): Problem[] {
    return networks
        .filter(isResolved)
        .filter((network) => privateIps[network.environment] === undefined)
        .map((network) => ({
            kind: "private-ip-missing",
            subject: network.environment,
            message: `the LB has no private IP in the ${network.environment} network (${network.privateNetworkId}): it is not attached to it`,
        }));
}

function dnsLine(name: DnsName, expected: string | undefined, lookup: DnsLookup | undefined): DnsLine {
    const records = lookup && "records" in lookup ? lookup.records : [];
    const actual = records.map((record) => record.content);
    const ok = expected !== undefined && records.length > 0 && records.every((record) => record.content === expected && !record.proxied);
    return { ...name, expected, actual, ok };
}

function dnsProblems(line: DnsLine, lookup: DnsLookup | undefined): Problem[] {
    if (lookup === undefined || "error" in lookup) {
        return [
            {
                kind: "dns-lookup-failed",
                subject: line.fqdn,
                message: `Cloudflare lookup of ${line.fqdn} failed: ${lookup ? lookup.error : "not looked up"}`,
            },
        ];
    }
    if (line.expected === undefined) {
        // Already reported as private-ip-missing or private-network-unresolved for the environment.
        return [];
    }
    if (lookup.records.length === 0) {
        return [
            {
                kind: "dns-record-missing",
                subject: line.fqdn,
                message: `${line.fqdn} has no A record: expected ${line.expected} (the LB in ${line.environment})`,
            },
        ];
    }
    const problems: Problem[] = [];
    if (lookup.records.some((record) => record.content !== line.expected)) {
        problems.push({
            kind: "dns-record-wrong",
            subject: line.fqdn,
            message: `${line.fqdn} points at ${line.actual.join(", ")}, not at the LB's private IP in ${line.environment} (${line.expected})`,
        });
    }
    if (lookup.records.some((record) => record.proxied)) {
        problems.push({
            kind: "dns-record-proxied",
            subject: line.fqdn,
            message: `${line.fqdn} is proxied by Cloudflare: a private IP must be DNS only (proxied: false)`,
        });
    }
    return problems;
}

function loadBalancerReport(lb: ObservedLoadBalancer, expected: ExpectedLoadBalancer, observation: StatusObservation): LoadBalancerReport {
    const certificates = lb.certificates.map((certificate) => certificateLine(lb, certificate, observation));
    const networks = observation.networks.filter((network) => expected.environments.includes(network.environment));
    const privateIps = privateIpsByEnvironment(lb, networks);
    const tlsPortNumbers = new Set([DEFAULT_TLS_PORT, ...expected.tlsPorts.map((tls) => tls.port)]);
    const dns = observation.dns;
    const dnsLines = dns ? expected.dnsNames.map((name) => dnsLine(name, privateIps[name.environment], dns.lookups[name.fqdn])) : [];
    return {
        id: `${lb.zone}/${lb.id}`,
        name: lb.name,
        zone: lb.zone,
        privateIps,
        certificates,
        frontends: lb.frontends.map((frontend) => ({
            id: frontend.id,
            name: frontend.name,
            port: frontend.inboundPort,
            tls: tlsPortNumbers.has(frontend.inboundPort),
            certificateIds: frontend.certificateIds.map((id) => `${lb.zone}/${id}`),
        })),
        dns: dnsLines,
        problems: [
            ...networkProblems(networks, privateIps),
            ...certificates.flatMap((line, index) => certificateProblems(line, lb.certificates[index], observation)),
            ...frontendProblems(lb, expected.tlsPorts),
            ...dnsLines.flatMap((line) => dnsProblems(line, dns?.lookups[line.fqdn])),
        ],
    };
}

export function buildStatusReport(observation: StatusObservation): StatusReport {
    const problems: Problem[] = observation.networks
        .filter((network): network is UnresolvedNetwork => !isResolved(network))
        .map((network) => ({ kind: "private-network-unresolved", subject: network.environment, message: network.problem }));
    const loadBalancers: LoadBalancerReport[] = [];
    const missing: Problem[] = [];
    for (const expected of observation.expected) {
        const found = observation.loadBalancers.filter((lb) => lb.name === expected.name && lb.zone === expected.zone);
        if (found.length === 0) {
            missing.push({
                kind: "load-balancer-missing",
                subject: expected.name,
                message: `no load balancer named ${expected.name} in ${expected.zone}: has \`pulumi up -s ${observation.stack}\` run with these credentials?`,
            });
        }
        loadBalancers.push(...found.map((lb) => loadBalancerReport(lb, expected, observation)));
    }
    problems.unshift(...missing);
    return {
        stack: observation.stack,
        environment: observation.environment,
        expected: observation.expected.map(({ name, zone }) => ({ name, zone })),
        checkedAt: observation.now.toISOString(),
        dnsChecked: observation.dns !== undefined,
        healthy: problems.length === 0 && loadBalancers.every((lb) => lb.problems.length === 0),
        loadBalancers,
        problems,
    };
}

export function exitCodeOf(report: StatusReport): number {
    return report.healthy ? EXIT_HEALTHY : EXIT_PROBLEMS;
}

export function allProblems(report: StatusReport): Problem[] {
    return [...report.problems, ...report.loadBalancers.flatMap((lb) => lb.problems)];
}

// ---------------------------------------------------------------------------------------------------
// Human output

function renderLoadBalancer(lb: LoadBalancerReport): string {
    const ips = Object.entries(lb.privateIps).map(([environment, ip]) => `${environment} ${ip}`);
    const certificates =
        lb.certificates.length === 0
            ? "  (no certificates)"
            : renderTable(
                  ["CERTIFICATE", "NAME", "DOMAINS", "STATUS", "NOT AFTER", "DAYS LEFT", "RENEW FROM", "FRONTEND"],
                  lb.certificates.map((line) => [
                      line.id,
                      line.name,
                      line.names.join(", "),
                      line.status,
                      shortTime(line.notAfter),
                      line.daysLeft === undefined ? "-" : String(line.daysLeft),
                      shortTime(line.renewalDueAt),
                      line.usedBy.length > 0 ? line.usedBy.join(", ") : "none",
                  ]),
              );
    const frontends =
        lb.frontends.length === 0
            ? "  (no frontends)"
            : renderTable(
                  ["FRONTEND", "PORT", "TLS", "CERTIFICATES"],
                  lb.frontends.map((frontend) => [
                      frontend.name,
                      String(frontend.port),
                      frontend.tls ? "yes" : "no",
                      frontend.certificateIds.join(", ") || "-",
                  ]),
              );
    const sections = [
        `Load balancer ${lb.name} (${lb.id})`,
        `Private IPs: ${ips.length > 0 ? ips.join(", ") : "none"}`,
        "",
        certificates,
        "",
        frontends,
    ];
    if (lb.dns.length > 0) {
        sections.push(
            "",
            renderTable(
                ["NAME", "ENVIRONMENT", "EXPECTED", "A RECORDS", "OK"],
                lb.dns.map((line) => [
                    line.fqdn,
                    line.environment,
                    line.expected ?? "-",
                    line.actual.join(", ") || "none",
                    line.ok ? "yes" : "NO",
                ]),
            ),
        );
    }
    return sections.join("\n");
}

export function renderStatus(report: StatusReport): string {
    const problems = allProblems(report);
    const header = `Stack ${report.stack} (environment ${report.environment}), checked ${shortTime(report.checkedAt)}${report.dnsChecked ? "" : " — DNS not checked (--skip-dns)"}`;
    const verdict =
        problems.length === 0
            ? "Healthy: no problems found."
            : [
                  `${problems.length} problem${problems.length === 1 ? "" : "s"}:`,
                  ...problems.map((problem) => `  ✗ [${problem.kind}] ${problem.message}`),
              ].join("\n");
    return [header, ...report.loadBalancers.map(renderLoadBalancer), verdict].join("\n\n") + "\n";
}

// ---------------------------------------------------------------------------------------------------
// Webhook message

/** Slack, Mattermost and Teams incoming webhooks all take a JSON object with a `text` field. */
export interface WebhookMessage {
    text: string;
}

/** What the webhook says about an unhealthy report: the stack, and one line per problem. */
export function webhookMessageOf(report: StatusReport): WebhookMessage {
    const problems = allProblems(report);
    return {
        text: [
            `scw-private-lb status: stack ${report.stack} (environment ${report.environment}, LB ${report.expected.map((lb) => lb.name).join(", ")}) has ${problems.length} problem${problems.length === 1 ? "" : "s"}, checked ${shortTime(report.checkedAt)}`,
            ...problems.map((problem) => `- [${problem.kind}] ${problem.message}`),
        ].join("\n"),
    };
}

/** What the webhook says when the check could not run at all. */
export function webhookErrorMessageOf(stack: string, error: string): WebhookMessage {
    return { text: `scw-private-lb status: the check of stack ${stack} could not run: ${error}` };
}
