import * as pulumi from "@pulumi/pulumi";
import { childAliases } from "./aliases";
import { PassThroughSettings } from "./annotations";
import { DEFAULT_HTTPS_PORT, defaultSelector, defaultServiceName } from "./defaults";
import { appFqdn } from "./naming";
import { DnsEnvironment, PRIVATE_DNS_RECORDS_TYPE, PrivateDnsRecords } from "./privateDnsRecords";
import { PRIVATE_LOAD_BALANCER_TYPE, PrivateLoadBalancer, PrivateLoadBalancerArgs } from "./privateLoadBalancer";
import { PRIVATE_SERVICE_TYPE, PrivateService, ServicePort } from "./privateService";

export const PRIVATE_ENDPOINT_TYPE = "scw-private-lb:endpoint:PrivateEndpoint";

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
    /** @default `<hostname>-lb-private` */
    serviceName?: string;
    /** @default `{ app: <hostname> }` */
    selector?: Record<string, string>;
    labels?: Record<string, string>;
    /** LB port terminating TLS; apps sharing an LB need distinct ports. @default 443 */
    httpsPort?: number;
    /** Pod port behind the TLS offload. @default 80 */
    targetPort?: number | string;
    extraPorts?: ServicePort[];
    ccm?: PassThroughSettings;
}

export interface PrivateEndpointArgs {
    /** An existing LB to put the app on (a `PrivateLoadBalancer`, or outputs read from a stack reference). Only one of `loadBalancer` or `loadBalancerArgs`. */
    loadBalancer?: LoadBalancerRef;
    /** The arguments of an LB of the app's own, created under the endpoint. Only one of `loadBalancer` or `loadBalancerArgs`. */
    loadBalancerArgs?: PrivateLoadBalancerArgs;
    app: EndpointApp;
    /** Environments that reach the app (each gets an A record), keyed by name; the owning one first. */
    environments: Record<string, DnsEnvironment>;
    /** @default 300 */
    dnsTtl?: number;
    /** LB certificate id for the Service annotation `<httpsPort>:<id>`: the certificate resource's output. */
    certificateId?: pulumi.Input<string | undefined>;
}

/** The names a certificate for this endpoint must cover, in the order of `environments`. */
export function endpointFqdns(hostname: string, environments: Record<string, { domain: string }>): string[] {
    return Object.values(environments).map((env) => appFqdn(hostname, env.domain));
}

/**
 * One application's private HTTPS entrance: the annotated Service on the (shared or own) private
 * LB and its A records. Exposes what a certificate needs (names, LB id, zone). The Kubernetes provider
 * of the Service comes through the resource options (`providers: [k8sProvider]`), as for any component.
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
        super(PRIVATE_ENDPOINT_TYPE, name, {}, opts);
        if (args.loadBalancer !== undefined && args.loadBalancerArgs !== undefined) {
            throw new pulumi.ResourceError("Only one of `loadBalancer` or `loadBalancerArgs` can be provided.", this);
        }
        const app = args.app;
        // Older versions named the children `<endpoint>-lb`, `<endpoint>-service` and `<endpoint>-dns`.
        const childOptions = (type: string, legacySuffix: string): pulumi.ComponentResourceOptions => ({
            parent: this,
            aliases: childAliases(this, name, opts, type, name, (component) => `${component}${legacySuffix}`),
        });
        let lb: LoadBalancerRef;
        if (args.loadBalancerArgs !== undefined) {
            this.loadBalancer = new PrivateLoadBalancer(name, args.loadBalancerArgs, childOptions(PRIVATE_LOAD_BALANCER_TYPE, "-lb"));
            lb = this.loadBalancer;
        } else if (args.loadBalancer !== undefined) {
            lb = args.loadBalancer;
        } else {
            throw new pulumi.ResourceError(
                `PrivateEndpoint ${name}: give \`loadBalancer\` (an LB to share) or \`loadBalancerArgs\` (an LB of its own)`,
                this,
            );
        }
        this.loadBalancerId = pulumi.output(lb.loadBalancerId);
        this.zone = pulumi.output(lb.zone);
        this.httpsPort = app.httpsPort ?? DEFAULT_HTTPS_PORT;
        this.fqdns = pulumi.output(endpointFqdns(app.hostname, args.environments));

        this.service = new PrivateService(
            name,
            {
                namespace: app.namespace,
                serviceName: app.serviceName ?? defaultServiceName(app.hostname),
                loadBalancerId: lb.loadBalancerId,
                zone: lb.zone,
                httpsPort: this.httpsPort,
                targetPort: app.targetPort,
                extraPorts: app.extraPorts,
                selector: app.selector ?? defaultSelector(app.hostname),
                labels: app.labels,
                certificateId: args.certificateId,
                ccm: app.ccm,
            },
            childOptions(PRIVATE_SERVICE_TYPE, "-service"),
        );
        this.dnsRecords = new PrivateDnsRecords(
            name,
            { hostname: app.hostname, environments: args.environments, privateIps: lb.privateIps, ttl: args.dnsTtl },
            childOptions(PRIVATE_DNS_RECORDS_TYPE, "-dns"),
        );
        this.registerOutputs({ fqdns: this.fqdns, loadBalancerId: this.loadBalancerId, zone: this.zone });
    }
}
