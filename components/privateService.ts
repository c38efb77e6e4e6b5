import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { childAliases } from "./aliases";
import { buildCcmAnnotations, PassThroughSettings, serviceSettingsProblems } from "./annotations";
import { DEFAULT_HTTPS_PORT, DEFAULT_TARGET_PORT } from "./defaults";

export const PRIVATE_SERVICE_TYPE = "scw-private-lb:kubernetes:PrivateService";
const SERVICE_TYPE = "kubernetes:core/v1:Service";

export interface ServicePort {
    name: string;
    port: number;
    targetPort?: number | string;
    /** Only TCP: the CCM creates TCP frontends only. */
    protocol?: string;
}

export interface PrivateServiceArgs {
    namespace: pulumi.Input<string>;
    /** Kubernetes name of the Service. */
    serviceName: string;
    /** `<zone>/<uuid>` of the LB. */
    loadBalancerId: pulumi.Input<string>;
    zone: pulumi.Input<string>;
    /** LB port terminating TLS; apps sharing an LB need distinct ports. @default 443 */
    httpsPort?: number;
    /** Pod port behind the LB's TLS offload. @default 80 */
    targetPort?: number | string;
    extraPorts?: ServicePort[];
    selector: Record<string, string>;
    labels?: Record<string, string>;
    /** LB certificate to bind to `httpsPort` (the seam the certificate resource feeds). */
    certificateId?: pulumi.Input<string | undefined>;
    /** Documented CCM settings (health check, proxy protocol, timeouts...). */
    ccm?: PassThroughSettings;
}

/**
 * The `type: LoadBalancer` Service that hands an externally managed, private LB to the Scaleway CCM.
 * The Kubernetes provider comes through the resource options (`provider` or `providers`), as for any resource.
 */
export class PrivateService extends pulumi.ComponentResource {
    readonly service: k8s.core.v1.Service;
    readonly serviceName: pulumi.Output<string>;
    readonly namespace: pulumi.Output<string>;
    readonly annotations: pulumi.Output<Record<string, string>>;

    constructor(name: string, args: PrivateServiceArgs, opts?: pulumi.ComponentResourceOptions) {
        super(PRIVATE_SERVICE_TYPE, name, {}, opts);
        const httpsPort = args.httpsPort ?? DEFAULT_HTTPS_PORT;
        const ports = [{ name: "https", port: httpsPort, targetPort: args.targetPort ?? DEFAULT_TARGET_PORT }, ...(args.extraPorts ?? [])];
        const servicePorts = ports.map((p) => p.port);
        // Checked now, not inside the apply below, so a bad setting fails even while the ids are unknown.
        const problems = [...servicePortProblems(ports), ...serviceSettingsProblems(httpsPort, args.ccm ?? {}, servicePorts)];
        if (problems.length > 0) {
            throw new pulumi.ResourceError(`PrivateService ${name}: ${problems.join("; ")}`, this);
        }

        this.annotations = pulumi
            .all([args.loadBalancerId, args.zone, args.certificateId])
            .apply(([loadBalancerId, zone, certificateId]) => {
                try {
                    return buildCcmAnnotations({ loadBalancerId, zone, httpsPort, certificateId, settings: args.ccm }, servicePorts);
                } catch (error) {
                    throw new pulumi.ResourceError(`PrivateService ${name}: ${(error as Error).message}`, this);
                }
            });

        this.service = new k8s.core.v1.Service(
            name,
            {
                metadata: {
                    name: args.serviceName,
                    namespace: args.namespace,
                    labels: args.labels,
                    annotations: this.annotations,
                },
                spec: {
                    type: "LoadBalancer",
                    selector: args.selector,
                    ports: ports.map((p) => ({ name: p.name, port: p.port, targetPort: p.targetPort ?? p.port, protocol: "TCP" })),
                },
            },
            // Pulumi waits until the CCM publishes the LB's private IP in the Service status: proof that the
            // CCM accepted the annotations (without scw-loadbalancer-private it never can, docs/scaleway-ccm.md §1).
            // Older versions named it `<component>-service`.
            { parent: this, aliases: childAliases(this, name, opts, SERVICE_TYPE, name, (component) => `${component}-service`) },
        );
        this.serviceName = this.service.metadata.name;
        this.namespace = this.service.metadata.namespace;
        this.registerOutputs({ serviceName: this.serviceName, namespace: this.namespace, annotations: this.annotations });
    }
}

/** Port problems the CCM would only report at reconcile time, as messages. */
export function servicePortProblems(ports: ServicePort[]): string[] {
    const problems: string[] = [];
    const seen = new Set<number>();
    for (const p of ports) {
        if (p.protocol !== undefined && p.protocol.toUpperCase() !== "TCP") {
            problems.push(`port ${p.name} uses ${p.protocol}: the Scaleway CCM supports TCP only`);
        }
        if (!Number.isInteger(p.port) || p.port < 1 || p.port > 65535) {
            problems.push(`port ${p.name}: ${p.port} is not a port between 1 and 65535`);
        }
        if (seen.has(p.port)) {
            problems.push(`port ${p.port} is declared twice`);
        }
        seen.add(p.port);
    }
    return problems;
}
