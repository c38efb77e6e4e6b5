/**
 * The private, HTTPS-only admin entrance of one environment: reads the stack config, gives every app
 * its own private LB (or the LB of the app it shares), its certificate, its Service and its A records,
 * and exports per app what other projects read through StackReference.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import {
    AppPlan,
    appPlans,
    certificateSettingsFor,
    DnsEnvironment,
    EnvironmentConfig,
    lbPortsOf,
    loadBalancerPlans,
    PRIVATE_LOAD_BALANCER_TYPE,
    PrivateEndpoint,
    PrivateLoadBalancer,
    PrivateNetworkRef,
    stackConfigFromPulumi,
} from "./components";
import { ACME_CERTIFICATE_TYPE, AcmeCertificate } from "./components/certificate";

const config = stackConfigFromPulumi(pulumi.runtime.allConfig());
const plans = appPlans(config);

function privateNetworkOf(env: EnvironmentConfig): PrivateNetworkRef {
    return env.privateNetworkId !== undefined ? { id: env.privateNetworkId } : { name: env.privateNetworkName as string };
}

function dnsEnvironmentOf(env: EnvironmentConfig): DnsEnvironment {
    return {
        domain: env.domain,
        zone: env.cloudflareZoneId !== undefined ? { id: env.cloudflareZoneId } : { name: env.cloudflareZone as string },
    };
}

/**
 * Names of the layout where a stack had one LB for all its apps (before per-app LBs): its URNs become
 * aliases, so an upgraded stack keeps its resources. That LB becomes the LB of the first app that owns one.
 */
const LEGACY = {
    loadBalancer: "private-lb",
    certificate: (app: string) => `${app}-certificate`,
};
/** The old URN as an alias, unless an app of today has that name (its own resource holds the URN then). */
const legacyAlias = (name: string, type: string): pulumi.Input<string>[] =>
    config.apps.some((app) => app.name === name) ? [] : [pulumi.createUrn(name, type)];

const kubernetesProvider =
    config.kubeconfig !== undefined || config.kubeContext !== undefined
        ? new k8s.Provider("kubernetes", { kubeconfig: config.kubeconfig, context: config.kubeContext })
        : undefined;

const lbByOwner = new Map(
    loadBalancerPlans(config).map((lb, index) => [
        lb.owner,
        new PrivateLoadBalancer(
            lb.owner,
            {
                environment: config.environment,
                app: lb.owner,
                zone: lb.zone,
                type: lb.type,
                tags: lb.tags,
                privateNetworks: Object.fromEntries(lb.environments.map((env) => [env, privateNetworkOf(config.environments[env])])),
            },
            { aliases: index === 0 ? legacyAlias(LEGACY.loadBalancer, PRIVATE_LOAD_BALANCER_TYPE) : [] },
        ),
    ]),
);
const loadBalancerOf = (plan: AppPlan) => lbByOwner.get(plan.loadBalancer.owner) as PrivateLoadBalancer;

// One ACME account for the stack: renewals by the same account are what ARI's rate-limit exemption needs.
const acmeAccountKey = new tls.PrivateKey("acme-account-key", { algorithm: "ECDSA", ecdsaCurve: "P256" });
const acmeCertificates = plans.map(
    (plan) =>
        new AcmeCertificate(
            plan.app.name,
            {
                ...certificateSettingsFor(config, plan),
                loadBalancerId: loadBalancerOf(plan).loadBalancerId,
                acmeServer: config.acmeServer,
                accountKeyPem: acmeAccountKey.privateKeyPem,
            },
            { aliases: legacyAlias(LEGACY.certificate(plan.app.name), ACME_CERTIFICATE_TYPE) },
        ),
);

const endpoints = plans.map(
    (plan, i) =>
        new PrivateEndpoint(
            plan.app.name,
            {
                loadBalancer: loadBalancerOf(plan),
                app: {
                    hostname: plan.app.name,
                    namespace: plan.app.namespace,
                    serviceName: plan.app.serviceName,
                    selector: plan.app.selector,
                    labels: plan.app.labels,
                    httpsPort: plan.app.httpsPort,
                    targetPort: plan.app.targetPort,
                    extraPorts: plan.app.extraPorts,
                    ccm: plan.app.ccm,
                },
                environments: Object.fromEntries(plan.environments.map((env) => [env, dnsEnvironmentOf(config.environments[env])])),
                dnsTtl: config.dnsTtl,
                certificateId: acmeCertificates[i].certificateId,
            },
            { providers: kubernetesProvider !== undefined ? [kubernetesProvider] : [] },
        ),
);

/** Keyed by app name. */
const byApp = <T>(value: (plan: AppPlan, index: number) => T): Record<string, T> =>
    Object.fromEntries(plans.map((plan, i) => [plan.app.name, value(plan, i)]));

export const environment = config.environment;
/** Each app's LB (for an app that shares one, the LB of `owner`). */
export const loadBalancers = pulumi.output(
    byApp((plan) => {
        const lb = loadBalancerOf(plan);
        return {
            owner: plan.loadBalancer.owner,
            id: lb.loadBalancerId,
            uuid: lb.loadBalancerUuid,
            name: lb.loadBalancerName,
            zone: lb.zone,
            privateIps: lb.privateIps,
        };
    }),
);
export const fqdns = pulumi.output(byApp((_plan, i) => endpoints[i].fqdns));
export const httpsPorts = byApp((plan) => plan.app.httpsPort);
/** Every LB port each app's Service opens (TLS port first): what another project sharing the LB must avoid. */
export const lbPorts = byApp((plan) => lbPortsOf(plan.app));
export const certificates = pulumi.output(
    byApp((_plan, i) => ({
        id: acmeCertificates[i].certificateId,
        notAfter: acmeCertificates[i].notAfter,
        renewalDueAt: acmeCertificates[i].renewalDueAt,
    })),
);
