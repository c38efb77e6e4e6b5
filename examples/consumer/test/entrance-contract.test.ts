/**
 * The contract between the consumer and the entrance: the entrance program, run under mocks with its
 * three-app fixture stack, exports every output the consumer reads, in the shape the consumer's fixture
 * (and code) assumes. Ids and addresses differ under mocks; names, owners and ports come from config and match.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { parseZonedId } from "../../../components/naming";
import { fixtureStack, runProgram } from "../../../test/support/program";
import { valueOf } from "../../../test/support/pulumiMocks";
import { ENTRANCE_OUTPUTS } from "./entrance";

type Shape = string | Shape[] | { [key: string]: Shape };

/** The value with every leaf replaced by its type name. */
function shapeOf(value: unknown): Shape {
    if (Array.isArray(value)) {
        return value.map(shapeOf);
    }
    if (value !== null && typeof value === "object") {
        return Object.fromEntries(Object.entries(value).map(([key, entry]) => [key, shapeOf(entry)]));
    }
    return typeof value;
}

let exported: Record<string, unknown>;

beforeAll(async () => {
    const { program } = await runProgram(fixtureStack("three-apps"));
    const outputs: Record<string, unknown> = program;
    const entries = await Promise.all(Object.entries(outputs).map(async ([name, output]) => [name, await valueOf(output)] as const));
    exported = Object.fromEntries(entries);
});

describe("entrance outputs the consumer relies on", () => {
    it("exports every output of the fixture, each with the fixture's shape", () => {
        for (const [name, value] of Object.entries(ENTRANCE_OUTPUTS)) {
            expect({ name, shape: shapeOf(exported[name]) }).toEqual({ name, shape: shapeOf(value) });
        }
    });

    it("exports the same names, owners and ports as the fixture, and zoned LB ids", () => {
        expect(exported.fqdns).toEqual(ENTRANCE_OUTPUTS.fqdns);
        expect(exported.httpsPorts).toEqual(ENTRANCE_OUTPUTS.httpsPorts);
        expect(exported.lbPorts).toEqual(ENTRANCE_OUTPUTS.lbPorts);
        expect(exported.environment).toBe(ENTRANCE_OUTPUTS.environment);
        const loadBalancers = exported.loadBalancers as typeof ENTRANCE_OUTPUTS.loadBalancers;
        for (const [app, lb] of Object.entries(ENTRANCE_OUTPUTS.loadBalancers)) {
            const actual = loadBalancers[app as keyof typeof loadBalancers];
            expect({ app, owner: actual.owner, name: actual.name, environments: Object.keys(actual.privateIps) }).toEqual({
                app,
                owner: lb.owner,
                name: lb.name,
                environments: Object.keys(lb.privateIps),
            });
            expect(parseZonedId(actual.id).zone).toBe(actual.zone);
        }
        expect(loadBalancers.grafana.id).toBe(loadBalancers.test.id);
    });
});
