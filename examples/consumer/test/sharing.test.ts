import { describe, expect, it } from "vitest";
import { sharingProblems, SharedApp } from "../sharing";
import { ENTRANCE_OUTPUTS } from "./entrance";

const kibana: SharedApp = {
    hostname: "kibana",
    shareLoadBalancerWith: "test",
    lbPorts: [9443],
    fqdns: ["kibana.prod.example.net", "kibana.monitoring.example.net"],
    environments: ["prod", "monitoring"],
};

describe("sharing an entrance app's LB", () => {
    it("accepts an app on a port free on that LB, with new names, in attached environments", () => {
        expect(sharingProblems(kibana, ENTRANCE_OUTPUTS)).toEqual([]);
        // 443 is taken on test's LB, not on backoffice's: ports are per LB.
        expect(
            sharingProblems(
                { ...kibana, shareLoadBalancerWith: "backoffice", lbPorts: [8443, 81], environments: ["prod"] },
                ENTRANCE_OUTPUTS,
            ),
        ).toEqual([]);
    });

    it("refuses a TLS or extra port an app on the same LB already holds, naming the owner", () => {
        expect(sharingProblems({ ...kibana, lbPorts: [443, 8443, 81, 9000] }, ENTRANCE_OUTPUTS)).toEqual([
            `LB port 443 is already used on private-lb-prod-test by the entrance app "test": pick a free port (e.g. 9443)`,
            `LB port 8443 is already used on private-lb-prod-test by the entrance app "grafana": pick a free port (e.g. 9443)`,
            `LB port 81 is already used on private-lb-prod-test by the entrance app "test": pick a free port (e.g. 9443)`,
        ]);
    });

    it("refuses names the entrance already serves", () => {
        expect(
            sharingProblems(
                { ...kibana, hostname: "test", fqdns: ["test.prod.example.net", "test.staging.example.net"] },
                ENTRANCE_OUTPUTS,
            ),
        ).toEqual([`test.prod.example.net is already served by the entrance app "test": pick another hostname than "test"`]);
    });

    it("refuses an environment whose network the LB is not attached to", () => {
        expect(sharingProblems({ ...kibana, shareLoadBalancerWith: "backoffice", lbPorts: [9443] }, ENTRANCE_OUTPUTS)).toEqual([
            `environment "monitoring": the LB private-lb-prod-backoffice is not attached to its private network (attached: prod); add it to the reachableFrom of the entrance app "backoffice" or drop it here`,
        ]);
    });

    it("refuses an entrance app that does not exist", () => {
        expect(sharingProblems({ ...kibana, shareLoadBalancerWith: "tset" }, ENTRANCE_OUTPUTS)).toEqual([
            `shareLoadBalancerWith: the entrance has no app "tset": name one of test, backoffice, grafana`,
        ]);
    });
});
