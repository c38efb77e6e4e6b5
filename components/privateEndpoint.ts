import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { PassThroughSettings } from "./annotations";
import { appFqdn } from "./naming";
import { DnsEnvironment, PrivateDnsRecords } from "./privateDnsRecords";
import { PrivateLoadBalancer, PrivateLoadBalancerArgs } from "./privateLoadBalancer";
import { PrivateService, ServicePort } from "./privateService";

/** What an endpoint needs of an LB it shares: a `PrivateLoadBalancer`, or outputs read from a stack reference. */
export interface LoadBalancerRef {
    /** `<zone>/<uuid>`. */
    loadBalancerId: pulumi.Input<string>;
    zone: pulumi.Input<string>;
    /** Private IPv4 per environment. */
    privateIps: pulumi.Input<Record<string, string>>;
}

export interface EndpointApp {
    /** Hostname label: the app answers at `<hostname>.<environment domain>`. */
    hostname: string;
    namespace: pulumi.Input<string>;
    /** Defaults to `<hostname>-lb-private`. */
    serviceName?: string;
    /** Defaults to `{ app: <hostname> }`. */
    selector?: Record<string, string>;
    labels?: Record<string, string>;
    httpsPort?: number;
    targetPort?: number | string;
    extraPorts?: ServicePort[];
    ccm?: PassThroughSettings;
}

export interface PrivateEndpointArgs {
    /** An LB to share, or the arguments of a dedicated one to create. */
    loadBalancer: LoadBalancerRef | PrivateLoadBalancerArgs;
    app: EndpointApp;
    /** Environments that reach the app (each gets an A record), keyed by name; the owning one first. */
    environments: Record<string, DnsEnvironment>;
    dnsTtl?: number;
    /** LB certificate id for the Service annotation `<httpsPort>:<id>`: the certificate resource's output. */
    certificateId?: pulumi.Input<string | undefined>;
    kubernetesProvider?: k8s.Provider;
}

/** The names a certificate for this endpoint must cover, in the order of `environments`. */
export function endpointFqdns(hostname: string, environments: Record<string, { domain: string }>): string[] {
    return Object.values(environments).map((env) => appFqdn(hostname, env.domain));
}

/**
 * One application's private HTTPS entrance: the annotated Service on the (shared or own) private
 * LB and its A records. Exposes what a certificate needs (names, LB id, zone).
 */
export class PrivateEndpoint extends pulumi.ComponentResource {
    readonly fqdns: pulumi.Output<string[]>;
    readonly loadBalancerId: pulumi.Output<string>;
    readonly zone: pulumi.Output<string>;
    readonly httpsPort: number;
    readonly service: PrivateService;
    readonly dnsRecords: PrivateDnsRecords;
    /** Set when the endpoint created its own LB. */
    readonly loadBalancer?: PrivateLoadBalancer;

    constructor(name: string, args: PrivateEndpointArgs, opts?: pulumi.ComponentResourceOptions) {
        super("scw-private-lb:endpoint:PrivateEndpoint", name, {}, opts);
        const app = args.app;
        let lb: LoadBalancerRef;
        if ("loadBalancerId" in args.loadBalancer) {
            lb = args.loadBalancer;
        } else {
            this.loadBalancer = new PrivateLoadBalancer(`${name}-lb`, args.loadBalancer, { parent: this });
            lb = this.loadBalancer;
        }
        this.loadBalancerId = pulumi.output(lb.loadBalancerId);
        this.zone = pulumi.output(lb.zone);
        this.httpsPort = app.httpsPort ?? 443;
        this.fqdns = pulumi.output(endpointFqdns(app.hostname, args.environments));

        this.service = new PrivateService(
            `${name}-service`,
            {
                namespace: app.namespace,
                serviceName: app.serviceName ?? `${app.hostname}-lb-private`,
                loadBalancerId: lb.loadBalancerId,
                zone: lb.zone,
                httpsPort: this.httpsPort,
                targetPort: app.targetPort,
                extraPorts: app.extraPorts,
                selector: app.selector ?? { app: app.hostname },
                labels: app.labels,
                certificateId: args.certificateId,
                ccm: app.ccm,
                provider: args.kubernetesProvider,
            },
            { parent: this },
        );
        this.dnsRecords = new PrivateDnsRecords(
            `${name}-dns`,
            { hostname: app.hostname, environments: args.environments, privateIps: lb.privateIps, ttl: args.dnsTtl },
            { parent: this },
        );
        this.registerOutputs({ fqdns: this.fqdns, loadBalancerId: this.loadBalancerId, zone: this.zone });
    }
}
