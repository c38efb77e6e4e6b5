import * as cloudflare from "@pulumi/cloudflare";
import * as pulumi from "@pulumi/pulumi";
import { childAliases } from "./aliases";
import { DEFAULT_DNS_TTL, MIN_DNS_TTL } from "./defaults";
import { appFqdn } from "./naming";

export const PRIVATE_DNS_RECORDS_TYPE = "scw-private-lb:dns:PrivateDnsRecords";
const RECORD_TYPE = "cloudflare:index/dnsRecord:DnsRecord";

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
    /** Seconds; Cloudflare's API minimum is 60. @default 300 */
    ttl?: number;
}

/**
 * One A record per environment domain, pointing at the LB's private IP in that environment's
 * network. Never proxied: Cloudflare's proxy cannot reach a private address.
 */
export class PrivateDnsRecords extends pulumi.ComponentResource {
    readonly records: Record<string, cloudflare.DnsRecord>;
    /** FQDN per environment. */
    readonly fqdns: Record<string, string>;

    constructor(name: string, args: PrivateDnsRecordsArgs, opts?: pulumi.ComponentResourceOptions) {
        super(PRIVATE_DNS_RECORDS_TYPE, name, {}, opts);
        const ttl = args.ttl ?? DEFAULT_DNS_TTL;
        if (!Number.isInteger(ttl) || ttl < MIN_DNS_TTL) {
            throw new pulumi.ResourceError(
                `PrivateDnsRecords ${name}: ttl ${ttl} is invalid: use a whole number of seconds, at least ${MIN_DNS_TTL}`,
                this,
            );
        }
        this.records = {};
        this.fqdns = {};
        for (const [environment, env] of Object.entries(args.environments)) {
            const fqdn = appFqdn(args.hostname, env.domain);
            this.fqdns[environment] = fqdn;
            const zoneId =
                "id" in env.zone
                    ? pulumi.output(env.zone.id)
                    : cloudflare
                          .getZoneOutput({ filter: { name: env.zone.name } }, { parent: this })
                          .apply((zone) => zone.zoneId ?? zone.id);
            const recordName = `${name}-${environment}`;
            this.records[environment] = new cloudflare.DnsRecord(
                recordName,
                {
                    zoneId,
                    name: fqdn,
                    type: "A",
                    content: pulumi.output(args.privateIps).apply((ips) => {
                        const ip = ips[environment];
                        if (ip === undefined) {
                            throw new pulumi.ResourceError(
                                `PrivateDnsRecords ${name}: no private IP of the LB in environment "${environment}"`,
                                this,
                            );
                        }
                        return ip;
                    }),
                    proxied: false,
                    ttl,
                    comment: `private admin entrance (${environment}), managed by Pulumi`,
                },
                // The name keeps its form; the aliases follow a renamed or moved component.
                {
                    parent: this,
                    aliases: childAliases(this, name, opts, RECORD_TYPE, recordName, (component) => `${component}-${environment}`),
                },
            );
        }
        this.registerOutputs({ fqdns: this.fqdns });
    }
}
