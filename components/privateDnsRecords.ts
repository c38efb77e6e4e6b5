import * as cloudflare from "@pulumi/cloudflare";
import * as pulumi from "@pulumi/pulumi";
import { appFqdn } from "./naming";

/** A Cloudflare zone given by id or looked up by name. */
export type CloudflareZoneRef = { id: pulumi.Input<string> } | { name: string };

export interface DnsEnvironment {
    /** DNS suffix of the environment, e.g. `prod.example.com`. */
    domain: string;
    zone: CloudflareZoneRef;
}

export interface PrivateDnsRecordsArgs {
    /** Hostname label of the app: records are `<hostname>.<environment domain>`. */
    hostname: string;
    /** Environments that reach the LB, keyed by name. */
    environments: Record<string, DnsEnvironment>;
    /** The LB's private IPv4 in each environment's network, keyed by environment. */
    privateIps: pulumi.Input<Record<string, string>>;
    /** Seconds; Cloudflare's API minimum is 60. */
    ttl?: number;
}

export const MIN_DNS_TTL = 60;

/**
 * One A record per environment domain, pointing at the LB's private IP in that environment's
 * network. Never proxied: Cloudflare's proxy cannot reach a private address.
 */
export class PrivateDnsRecords extends pulumi.ComponentResource {
    readonly records: Record<string, cloudflare.DnsRecord>;
    /** FQDN per environment. */
    readonly fqdns: Record<string, string>;

    constructor(name: string, args: PrivateDnsRecordsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("scw-private-lb:dns:PrivateDnsRecords", name, {}, opts);
        const ttl = args.ttl ?? 300;
        if (!Number.isInteger(ttl) || ttl < MIN_DNS_TTL) {
            throw new Error(`PrivateDnsRecords ${name}: ttl ${ttl} is invalid: use a whole number of seconds, at least ${MIN_DNS_TTL}`);
        }
        this.records = {};
        this.fqdns = {};
        for (const [environment, env] of Object.entries(args.environments)) {
            const fqdn = appFqdn(args.hostname, env.domain);
            this.fqdns[environment] = fqdn;
            const zoneId =
                "id" in env.zone
                    ? pulumi.output(env.zone.id)
                    : cloudflare.getZoneOutput({ filter: { name: env.zone.name } }, { parent: this }).apply((zone) => zone.zoneId ?? zone.id);
            this.records[environment] = new cloudflare.DnsRecord(
                `${name}-${environment}`,
                {
                    zoneId,
                    name: fqdn,
                    type: "A",
                    content: pulumi.output(args.privateIps).apply((ips) => {
                        const ip = ips[environment];
                        if (ip === undefined) {
                            throw new Error(`PrivateDnsRecords ${name}: no private IP of the LB in environment "${environment}"`);
                        }
                        return ip;
                    }),
                    proxied: false,
                    ttl,
                    comment: `private admin entrance (${environment}), managed by Pulumi`,
                },
                { parent: this },
            );
        }
        this.registerOutputs({ fqdns: this.fqdns });
    }
}
