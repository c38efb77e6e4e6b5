import * as pulumi from "@pulumi/pulumi";
import * as scaleway from "@pulumiverse/scaleway";
import { childAliases } from "./aliases";
import { DEFAULT_LB_TYPE, DEFAULT_ZONE } from "./defaults";
import { loadBalancerName, regionOfZone, validateLoadBalancerName } from "./naming";

/** A private network given by id (`<region>/<uuid>` or `<uuid>`) or looked up by name. */
export type PrivateNetworkRef = { id: pulumi.Input<string> } | { name: string };

export const PRIVATE_LOAD_BALANCER_TYPE = "scw-private-lb:loadbalancer:PrivateLoadBalancer";
const LOAD_BALANCER_TYPE = "scaleway:loadbalancers/loadBalancer:LoadBalancer";
const ATTACHMENT_TYPE = "scaleway:loadbalancers/privateNetwork:PrivateNetwork";

export interface PrivateLoadBalancerArgs {
    /** Environment of the stack that owns the LB, e.g. `prod`. */
    environment: string;
    /** The app the LB is for (its domain without extension, e.g. `test` for `test.example.com`): the LB is `private-lb-<environment>-<app>`. */
    app?: string;
    /** A name of your own instead of the convention (still validated). Only one of `app` or `name`. */
    name?: string;
    /** @default "fr-par-1" */
    zone?: string;
    /** LB offer. @default "LB-S" */
    type?: string;
    /** @default [] */
    tags?: string[];
    /** Private networks allowed to reach the LB, keyed by environment. Must include `environment`. */
    privateNetworks: Record<string, PrivateNetworkRef>;
}

/**
 * A Scaleway LB with no public IP, attached to the private networks of every environment allowed to
 * reach it. The CCM never creates it (the Service marks it externally managed), so it is ours to own.
 */
export class PrivateLoadBalancer extends pulumi.ComponentResource {
    /** `<zone>/<uuid>`: the form the CCM annotation and the Scaleway provider use. */
    readonly loadBalancerId: pulumi.Output<string>;
    readonly loadBalancerUuid: pulumi.Output<string>;
    readonly loadBalancerName: pulumi.Output<string>;
    readonly zone: pulumi.Output<string>;
    /** The LB's private IPv4 in each attached network, keyed by environment. */
    readonly privateIps: pulumi.Output<Record<string, string>>;
    readonly loadBalancer: scaleway.loadbalancers.LoadBalancer;
    readonly attachments: Record<string, scaleway.loadbalancers.PrivateNetwork>;

    constructor(name: string, args: PrivateLoadBalancerArgs, opts?: pulumi.ComponentResourceOptions) {
        super(PRIVATE_LOAD_BALANCER_TYPE, name, {}, opts);
        if (args.app !== undefined && args.name !== undefined) {
            throw new pulumi.ResourceError("Only one of `app` or `name` can be provided.", this);
        }
        if (args.app === undefined && args.name === undefined) {
            throw new pulumi.ResourceError(
                `PrivateLoadBalancer ${name}: give \`app\` (the LB is then private-lb-<environment>-<app>) or \`name\``,
                this,
            );
        }
        const zone = args.zone ?? DEFAULT_ZONE;
        let region: string;
        let lbName: string;
        try {
            region = regionOfZone(zone);
            lbName = args.name !== undefined ? validateLoadBalancerName(args.name) : loadBalancerName(args.environment, args.app as string);
        } catch (error) {
            throw new pulumi.ResourceError(`PrivateLoadBalancer ${name}: ${(error as Error).message}`, this);
        }
        if (!(args.environment in args.privateNetworks)) {
            throw new pulumi.ResourceError(
                `PrivateLoadBalancer ${name}: privateNetworks has no entry for its own environment "${args.environment}"`,
                this,
            );
        }

        this.loadBalancer = new scaleway.loadbalancers.LoadBalancer(
            name,
            {
                name: lbName,
                type: args.type ?? DEFAULT_LB_TYPE,
                zone,
                // Private: no flexible IPv4/IPv6 and no IP ids.
                assignFlexibleIp: false,
                assignFlexibleIpv6: false,
                // Attachments are separate resources: inline privateNetworks changes detach/re-attach all (docs/scaleway-lb.md §3).
                externalPrivateNetworks: true,
                tags: args.tags ?? [],
            },
            // Older versions named it `<component>-lb`.
            { parent: this, aliases: childAliases(this, name, opts, LOAD_BALANCER_TYPE, name, (component) => `${component}-lb`) },
        );
        const lb = this.loadBalancer;
        this.loadBalancerId = lb.id;
        this.loadBalancerUuid = lb.id.apply(bareId);
        this.loadBalancerName = lb.name;
        this.zone = pulumi.output(zone);

        this.attachments = {};
        const ips: Record<string, pulumi.Output<string>> = {};
        for (const [environment, network] of Object.entries(args.privateNetworks)) {
            const privateNetworkId =
                "id" in network
                    ? pulumi.output(network.id)
                    : scaleway.network.getPrivateNetworkOutput({ name: network.name, region }, { parent: this }).apply((found) => found.id);
            const attachmentName = `${name}-${environment}`;
            const attachment = new scaleway.loadbalancers.PrivateNetwork(
                attachmentName,
                { lbId: lb.id, privateNetworkId, zone },
                // Older versions named it `<component>-pn-<environment>`.
                {
                    parent: this,
                    aliases: childAliases(
                        this,
                        name,
                        opts,
                        ATTACHMENT_TYPE,
                        attachmentName,
                        (component) => `${component}-pn-${environment}`,
                    ),
                },
            );
            this.attachments[environment] = attachment;
            // Waits for the attachment: IPAM has no address for the LB in a network it is not in yet.
            ips[environment] = scaleway.ipam
                .getIpOutput(
                    {
                        resource: { type: "lb_server", id: pulumi.all([lb.id, attachment.id]).apply(([id]) => bareId(id)) },
                        privateNetworkId: attachment.privateNetworkId,
                        type: "ipv4",
                        region,
                    },
                    { parent: this },
                )
                .apply((ip) => ip.address);
        }
        this.privateIps = pulumi.output(ips);

        this.registerOutputs({
            loadBalancerId: this.loadBalancerId,
            loadBalancerUuid: this.loadBalancerUuid,
            loadBalancerName: this.loadBalancerName,
            zone: this.zone,
            privateIps: this.privateIps,
        });
    }
}

/** `fr-par-1/<uuid>` -> `<uuid>`; ids without a locality pass through. */
export function bareId(id: string): string {
    return id.slice(id.lastIndexOf("/") + 1);
}
