/**
 * A second application behind the private LB of an entrance app, in a stack it does not own: like an
 * entrance app with `shareLoadBalancerWith`, it names the entrance app whose LB it goes on; that LB's
 * id, zone and private IPs come from the entrance's `loadBalancers` output through a StackReference,
 * and the app gets its own TLS port, A records and Let's Encrypt certificate with the entrance's components.
 */
import * as pulumi from "@pulumi/pulumi";
import { DnsEnvironment, EndpointApp, endpointFqdns, LoadBalancerRef, PrivateEndpoint } from "../../components";
import { ACME_CERTIFICATE_TYPE, AcmeCertificate } from "../../components/certificate";
import { z } from "zod";
import { EntranceOutputs, entranceOutputsSchema, sharingProblems } from "./sharing";

const config = new pulumi.Config();
/** `organization/scw-private-lb/<stack>` on a file/S3 backend, `<org>/scw-private-lb/<stack>` on Pulumi Cloud. */
const entrance = new pulumi.StackReference("entrance", { name: config.require("entranceStack") });
const app = config.requireObject<EndpointApp>("app");
/** The entrance app whose LB this app goes on. */
const shareLoadBalancerWith = config.require("shareLoadBalancerWith");
// The entrance app holds 443 on its LB: a second app on the same LB needs its own TLS port, so no default.
const tlsPort = app.httpsPort;
if (tlsPort === undefined) {
    throw new Error(
        `${pulumi.getProject()}:app.httpsPort is required: pick a port the entrance app "${shareLoadBalancerWith}" does not use on its LB, e.g. 9443`,
    );
}
/** Environments that reach the app, keyed by name: `{ domain, zone: { name } | { id } }` (Cloudflare zone). */
const environments = config.requireObject<Record<string, DnsEnvironment>>("environments");
const fqdns = endpointFqdns(app.hostname, environments);

const entranceOutputs: pulumi.Output<EntranceOutputs> = pulumi
    .all({
        loadBalancers: entrance.requireOutput("loadBalancers"),
        fqdns: entrance.requireOutput("fqdns"),
        lbPorts: entrance.requireOutput("lbPorts"),
    })
    .apply((raw) => {
        const read = entranceOutputsSchema.safeParse(raw);
        if (!read.success) {
            throw new Error(
                `the outputs of ${config.require("entranceStack")} are not an scw-private-lb entrance's: ${z.prettifyError(read.error)}`,
            );
        }
        const outputs = read.data;
        const problems = sharingProblems(
            {
                hostname: app.hostname,
                shareLoadBalancerWith,
                lbPorts: [tlsPort, ...(app.extraPorts ?? []).map((extra) => extra.port)],
                fqdns,
                environments: Object.keys(environments),
            },
            outputs,
        );
        if (problems.length > 0) {
            throw new Error(`cannot share the LB of ${config.require("entranceStack")}:\n  - ${problems.join("\n  - ")}`);
        }
        return outputs;
    });

// Everything that touches the LB waits for the check above, so a conflict stops the run before any change.
const sharedLb = entranceOutputs.apply((outputs) => outputs.loadBalancers[shareLoadBalancerWith]);
const loadBalancer: LoadBalancerRef = {
    loadBalancerId: sharedLb.apply((lb) => lb.id),
    zone: sharedLb.apply((lb) => lb.zone),
    privateIps: sharedLb.apply((lb) => lb.privateIps),
};

const certificate = new AcmeCertificate(
    app.hostname,
    {
        domains: fqdns,
        loadBalancerId: loadBalancer.loadBalancerId,
        zone: loadBalancer.zone,
        acmeServer: config.get("acmeServer") ?? "letsencrypt",
        email: config.require("acmeEmail"),
        cloudflareZones: [...new Set(Object.values(environments).flatMap((env) => ("name" in env.zone ? [env.zone.name] : [])))],
    },
    {
        // Earlier versions of this example named it `<app>-certificate` (its certificate then `<app>-certificate-certificate`).
        aliases: [pulumi.createUrn(`${app.hostname}-certificate`, ACME_CERTIFICATE_TYPE)],
    },
);

const endpoint = new PrivateEndpoint(app.hostname, {
    loadBalancer,
    app,
    environments,
    dnsTtl: config.getNumber("dnsTtl"),
    certificateId: certificate.certificateId,
});

export const loadBalancerId = endpoint.loadBalancerId;
export const httpsPort = endpoint.httpsPort;
export const appFqdns = endpoint.fqdns;
export const certificateId = certificate.certificateId;
export const renewalDueAt = certificate.renewalDueAt;
