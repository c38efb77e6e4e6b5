/**
 * Client for pebble-challtestsrv's management API (Debian pebble 2.4.0): the fake authoritative
 * DNS that Pebble's validation authority queries.
 *
 * Semantics worth knowing: hosts must be fully qualified with a trailing dot (challtestsrv
 * accepts a host without it and then never answers for it, so the client adds the dot);
 * `set-txt` APPENDS a value; `clear-txt` removes ALL values of the host.
 */

export interface ChalltestsrvClient {
    /** http://127.0.0.1:<port>, no trailing slash. */
    readonly managementUrl: string;
    /** Adds one TXT value for the host (existing values stay). */
    setTxt(host: string, value: string): Promise<void>;
    /** Removes every TXT value of the host. */
    clearTxt(host: string): Promise<void>;
    setCname(host: string, target: string): Promise<void>;
    clearCname(host: string): Promise<void>;
    addA(host: string, addresses: readonly string[]): Promise<void>;
    clearA(host: string): Promise<void>;
}

/** "_acme-challenge.x.example" -> "_acme-challenge.x.example." (idempotent, lowercased). */
export function fullyQualified(host: string): string {
    const lower = host.toLowerCase();
    return lower.endsWith(".") ? lower : `${lower}.`;
}

export function createChalltestsrvClient(managementUrl: string): ChalltestsrvClient {
    const base = managementUrl.replace(/\/+$/, "");
    const post = async (endpoint: string, body: Record<string, unknown>): Promise<void> => {
        const response = await fetch(`${base}/${endpoint}`, { method: "POST", body: JSON.stringify(body) });
        if (!response.ok) {
            throw new Error(`pebble-challtestsrv ${endpoint} ${JSON.stringify(body)}: HTTP ${response.status} ${await response.text()}`);
        }
    };
    return {
        managementUrl: base,
        setTxt: (host, value) => post("set-txt", { host: fullyQualified(host), value }),
        clearTxt: (host) => post("clear-txt", { host: fullyQualified(host) }),
        setCname: (host, target) => post("set-cname", { host: fullyQualified(host), target: fullyQualified(target) }),
        clearCname: (host) => post("clear-cname", { host: fullyQualified(host) }),
        addA: (host, addresses) => post("add-a", { host: fullyQualified(host), addresses }),
        clearA: (host) => post("clear-a", { host: fullyQualified(host) }),
    };
}
