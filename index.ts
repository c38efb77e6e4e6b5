/**
 * The private, HTTPS-only admin entrance of one environment: reads the stack config, composes the
 * components and exports what other projects read through StackReference.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import {
    attachedEnvironments,
    certificateSettingsFor,
    decodePulumiConfig,
    DnsEnvironment,
    EnvironmentConfig,
    parseStackConfig,
    PrivateEndpoint,
    PrivateLoadBalancer,
    PrivateNetworkRef,
} from "./components";
import { AcmeCertificate } from "./components/certificate";

const config = parseStackConfig(decodePulumiConfig(pulumi.runtime.allConfig()));
const environments = attachedEnvironments(config);

function privateNetworkOf(env: EnvironmentConfig): PrivateNetworkRef {
    return env.privateNetworkId !== undefined ? { id: env.privateNetworkId } : { name: env.privateNetworkName as string };
}

function dnsEnvironmentOf(env: EnvironmentConfig): DnsEnvironment {
    return {
        domain: env.domain,
        zone: env.cloudflareZoneId !== undefined ? { id: env.cloudflareZoneId } : { name: env.cloudflareZone as string },
    };
}

const kubernetesProvider =
    config.kubeconfig !== undefined || config.kubeContext !== undefined
        ? new k8s.Provider("kubernetes", { kubeconfig: config.kubeconfig, context: config.kubeContext })
        : undefined;

const loadBalancer = new PrivateLoadBalancer("private-lb", {
    environment: config.environment,
    domain: config.domain,
    zone: config.zone,
    type: config.lbType,
    tags: config.lbTags,
    privateNetworks: Object.fromEntries(environments.map((env) => [env, privateNetworkOf(config.environments[env])])),
});

const dnsEnvironments = Object.fromEntries(environments.map((env) => [env, dnsEnvironmentOf(config.environments[env])]));

// One ACME account for the stack: renewals by the same account are what ARI's rate-limit exemption needs.
const acmeAccountKey = new tls.PrivateKey("acme-account-key", { algorithm: "ECDSA", ecdsaCurve: "P256" });
const certificates = config.apps.map(
    (app) =>
        new AcmeCertificate(`${app.name}-certificate`, {
            ...certificateSettingsFor(config, app),
            loadBalancerId: loadBalancer.loadBalancerId,
            acmeServer: config.acmeServer,
            accountKeyPem: acmeAccountKey.privateKeyPem,
        }),
);

const endpoints = config.apps.map(
    (app, i) =>
        new PrivateEndpoint(app.name, {
            loadBalancer,
            app: {
                hostname: app.name,
                namespace: app.namespace,
                serviceName: app.serviceName,
                selector: app.selector,
                labels: app.labels,
                httpsPort: app.httpsPort,
                targetPort: app.targetPort,
                extraPorts: app.extraPorts,
                ccm: app.ccm,
            },
            environments: dnsEnvironments,
            dnsTtl: config.dnsTtl,
            certificateId: certificates[i].certificateId,
            kubernetesProvider,
        }),
);

export const environment = config.environment;
export const zone = loadBalancer.zone;
export const loadBalancerId = loadBalancer.loadBalancerId;
export const loadBalancerUuid = loadBalancer.loadBalancerUuid;
export const loadBalancerName = loadBalancer.loadBalancerName;
export const privateIps = loadBalancer.privateIps;
export const fqdns = pulumi.output(Object.fromEntries(endpoints.map((endpoint, i) => [config.apps[i].name, endpoint.fqdns])));
export const certificateIds = pulumi.output(Object.fromEntries(certificates.map((certificate, i) => [config.apps[i].name, certificate.certificateId])));
export const certificateNotAfter = pulumi.output(Object.fromEntries(certificates.map((certificate, i) => [config.apps[i].name, certificate.notAfter])));
export const certificateRenewalDueAt = pulumi.output(
    Object.fromEntries(certificates.map((certificate, i) => [config.apps[i].name, certificate.renewalDueAt])),
);
export const httpsPorts = Object.fromEntries(endpoints.map((endpoint, i) => [config.apps[i].name, endpoint.httpsPort]));
/** Every LB port each app's Service opens (TLS port first): what another project sharing the LB must avoid. */
export const lbPorts = Object.fromEntries(config.apps.map((app) => [app.name, [app.httpsPort, ...app.extraPorts.map((extra) => extra.port)]]));
