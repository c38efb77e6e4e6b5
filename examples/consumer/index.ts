/**
 * A second application behind the private LB of an entrance stack it does not own: the LB id, zone,
 * private IPs and names come from that stack's outputs through a StackReference, and the app gets
 * its own TLS port, A records and Let's Encrypt certificate with the entrance's components.
 */
import * as pulumi from "@pulumi/pulumi";
import { DnsEnvironment, EndpointApp, endpointFqdns, LoadBalancerRef, PrivateEndpoint } from "../../components";
import { AcmeCertificate } from "../../components/certificate";
import { EntranceOutputs, sharingProblems } from "./sharing";

const config = new pulumi.Config();
/** `organization/scw-private-lb/<stack>` on a file/S3 backend, `<org>/scw-private-lb/<stack>` on Pulumi Cloud. */
const entrance = new pulumi.StackReference("entrance", { name: config.require("entranceStack") });
const app = config.requireObject<EndpointApp>("app");
// The entrance's apps hold 443: a second app on the same LB needs its own TLS port, so no default.
const tlsPort = app.httpsPort;
if (tlsPort === undefined) {
    throw new Error(`${pulumi.getProject()}:app.httpsPort is required: pick a port the entrance does not use, e.g. 9443`);
}
/** Environments that reach the app, keyed by name: `{ domain, zone: { name } | { id } }` (Cloudflare zone). */
const environments = config.requireObject<Record<string, DnsEnvironment>>("environments");
const fqdns = endpointFqdns(app.hostname, environments);

const entranceOutputs: pulumi.Output<EntranceOutputs> = pulumi
    .all([entrance.requireOutput("fqdns"), entrance.requireOutput("lbPorts"), entrance.requireOutput("privateIps")])
    .apply(([entranceFqdns, lbPorts, privateIps]) => {
        const outputs: EntranceOutputs = { fqdns: entranceFqdns, lbPorts, privateIps };
        const problems = sharingProblems(
            {
                hostname: app.hostname,
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
const loadBalancer: LoadBalancerRef = {
    loadBalancerId: pulumi.all([entranceOutputs, entrance.requireOutput("loadBalancerId")]).apply(([, id]) => id as string),
    zone: entrance.requireOutput("zone") as pulumi.Output<string>,
    privateIps: entranceOutputs.apply((outputs) => outputs.privateIps),
};

const certificate = new AcmeCertificate(`${app.hostname}-certificate`, {
    domains: fqdns,
    loadBalancerId: loadBalancer.loadBalancerId,
    zone: loadBalancer.zone,
    acmeServer: config.get("acmeServer") ?? "letsencrypt",
    email: config.require("acmeEmail"),
    cloudflareZones: [...new Set(Object.values(environments).flatMap((env) => ("name" in env.zone ? [env.zone.name] : [])))],
});

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
