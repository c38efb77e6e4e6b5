/**
 * The contract between the consumer and the entrance: the entrance program, run under mocks with its
 * prod stack file, exports every output the consumer reads, in the shape the consumer's fixture (and
 * code) assumes. Ids and addresses differ under mocks; names and ports come from config and match.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { parseZonedId } from "../../../components/naming";
import { runProgram } from "../../../test/support/program";
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
    const { program } = await runProgram("prod");
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

    it("exports the same names and TLS ports as the fixture, and a zoned LB id", () => {
        expect(exported.fqdns).toEqual(ENTRANCE_OUTPUTS.fqdns);
        expect(exported.httpsPorts).toEqual(ENTRANCE_OUTPUTS.httpsPorts);
        expect(exported.lbPorts).toEqual(ENTRANCE_OUTPUTS.lbPorts);
        expect(exported.environment).toBe(ENTRANCE_OUTPUTS.environment);
        expect(parseZonedId(exported.loadBalancerId as string).zone).toBe(exported.zone);
    });
});
