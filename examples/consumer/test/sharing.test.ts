import { describe, expect, it } from "vitest";
import { sharingProblems, SharedApp } from "../sharing";
import { ENTRANCE_OUTPUTS } from "./entrance";

const grafana: SharedApp = {
    hostname: "grafana",
    lbPorts: [9443],
    fqdns: ["grafana.prod.example.com", "grafana.monitoring.example.com"],
    environments: ["prod", "monitoring"],
};

describe("sharing the entrance's LB", () => {
    it("accepts an app on a free port, with new names, in attached environments", () => {
        expect(sharingProblems(grafana, ENTRANCE_OUTPUTS)).toEqual([]);
    });

    it("refuses a TLS or extra port an entrance app already holds, naming the owner", () => {
        expect(sharingProblems({ ...grafana, lbPorts: [443, 8443, 81, 9000] }, ENTRANCE_OUTPUTS)).toEqual([
            `LB port 443 is already used by the entrance app "test": pick a free port (e.g. 9443)`,
            `LB port 8443 is already used by the entrance app "backoffice": pick a free port (e.g. 9443)`,
            `LB port 81 is already used by the entrance app "test": pick a free port (e.g. 9443)`,
        ]);
    });

    it("refuses names the entrance already serves", () => {
        expect(sharingProblems({ ...grafana, hostname: "test", fqdns: ["test.prod.example.com", "test.staging.example.com"] }, ENTRANCE_OUTPUTS)).toEqual([
            `test.prod.example.com is already served by the entrance app "test": pick another hostname than "test"`,
        ]);
    });

    it("refuses an environment whose network the LB is not attached to", () => {
        expect(sharingProblems({ ...grafana, environments: ["prod", "staging"] }, ENTRANCE_OUTPUTS)).toEqual([
            `environment "staging": the shared LB is not attached to its private network (attached: prod, monitoring); add it to the entrance stack's reachableFrom or drop it here`,
        ]);
    });
});
