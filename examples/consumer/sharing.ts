/**
 * What a second application must not take from the entrance it shares an LB with. Pure: the
 * program runs it on the outputs read through the stack reference and fails before the Service is
 * registered, instead of letting the CCM fight over a frontend port.
 */

/** The entrance stack's outputs this example relies on (see the README's outputs table). */
export interface EntranceOutputs {
    /** Names each entrance app answers to, keyed by app. */
    fqdns: Record<string, string[]>;
    /** Every LB port each entrance app's Service opens (TLS port first), keyed by app. */
    lbPorts: Record<string, number[]>;
    /** The LB's private IPv4 per environment. */
    privateIps: Record<string, string>;
}

export interface SharedApp {
    hostname: string;
    /** Every LB port the app's Service opens (its TLS port and any extra port). */
    lbPorts: number[];
    /** The names the app will answer to. */
    fqdns: string[];
    /** Environments that must reach it: each needs the LB attached to its network. */
    environments: string[];
}

export function sharingProblems(app: SharedApp, entrance: EntranceOutputs): string[] {
    const problems: string[] = [];
    const attached = Object.keys(entrance.privateIps);
    for (const environment of app.environments.filter((env) => !attached.includes(env))) {
        problems.push(
            `environment "${environment}": the shared LB is not attached to its private network (attached: ${attached.join(", ")}); ` +
                `add it to the entrance stack's reachableFrom or drop it here`,
        );
    }
    for (const port of app.lbPorts) {
        const owner = Object.entries(entrance.lbPorts).find(([, used]) => used.includes(port));
        if (owner !== undefined) {
            problems.push(`LB port ${port} is already used by the entrance app "${owner[0]}": pick a free port (e.g. 9443)`);
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
