/**
 * What a second application must not take from the entrance app whose LB it shares. Pure: the program
 * runs it on the outputs read through the stack reference and fails before the Service is registered,
 * instead of letting the CCM fight over a frontend port.
 */
import { z } from "zod";

/** One app's LB as the entrance exports it (`loadBalancers` output, keyed by app). */
const entranceLoadBalancerSchema = z.object({
    /** The entrance app the LB is named after (an app sharing it names its owner here). */
    owner: z.string(),
    /** `<zone>/<uuid>`. */
    id: z.string(),
    uuid: z.string(),
    name: z.string(),
    zone: z.string(),
    /** The LB's private IPv4 per attached environment. */
    privateIps: z.record(z.string(), z.string()),
});

/** The entrance stack's outputs this example relies on (see the README's outputs table). */
export const entranceOutputsSchema = z.object({
    /** Each entrance app's LB, keyed by app. */
    loadBalancers: z.record(z.string(), entranceLoadBalancerSchema),
    /** Names each entrance app answers to, keyed by app. */
    fqdns: z.record(z.string(), z.array(z.string())),
    /** Every LB port each entrance app's Service opens (TLS port first), keyed by app. */
    lbPorts: z.record(z.string(), z.array(z.number())),
});
export type EntranceOutputs = z.infer<typeof entranceOutputsSchema>;

export interface SharedApp {
    hostname: string;
    /** The entrance app whose LB this app goes on. */
    shareLoadBalancerWith: string;
    /** Every LB port the app's Service opens (its TLS port and any extra port). */
    lbPorts: number[];
    /** The names the app will answer to. */
    fqdns: string[];
    /** Environments that must reach it: each needs the LB attached to its network. */
    environments: string[];
}

export function sharingProblems(app: SharedApp, entrance: EntranceOutputs): string[] {
    const lb = entrance.loadBalancers[app.shareLoadBalancerWith];
    if (lb === undefined) {
        return [
            `shareLoadBalancerWith: the entrance has no app "${app.shareLoadBalancerWith}": name one of ${Object.keys(entrance.loadBalancers).join(", ")}`,
        ];
    }
    const problems: string[] = [];
    const attached = Object.keys(lb.privateIps);
    for (const environment of app.environments.filter((env) => !attached.includes(env))) {
        problems.push(
            `environment "${environment}": the LB ${lb.name} is not attached to its private network (attached: ${attached.join(", ")}); ` +
                `add it to the reachableFrom of the entrance app "${lb.owner}" or drop it here`,
        );
    }
    // Only the apps on the same LB hold its ports.
    const onThisLb = Object.keys(entrance.loadBalancers).filter((name) => entrance.loadBalancers[name].id === lb.id);
    for (const port of app.lbPorts) {
        const owner = onThisLb.find((name) => (entrance.lbPorts[name] ?? []).includes(port));
        if (owner !== undefined) {
            problems.push(`LB port ${port} is already used on ${lb.name} by the entrance app "${owner}": pick a free port (e.g. 9443)`);
        }
    }
    for (const fqdn of app.fqdns) {
        const owner = Object.entries(entrance.fqdns).find(([, names]) => names.includes(fqdn));
        if (owner !== undefined) {
            problems.push(`${fqdn} is already served by the entrance app "${owner[0]}": pick another hostname than "${app.hostname}"`);
        }
    }
    return problems;
}
