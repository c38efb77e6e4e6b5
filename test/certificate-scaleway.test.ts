import { Errors } from "@scaleway/sdk-client";
import { describe, expect, it } from "vitest";
import {
    ariCertIdInName,
    CERTIFICATE_NAME_MAX_LENGTH,
    certificateName,
    frontendsToRelease,
    frontendUpdateRequest,
    isCcmOwnedFrontend,
    isStillAttachedRefusal,
    predecessorAriCertId,
    retryingFetch,
    type RetryPolicy,
    scalewayVerdict,
} from "../components/certificate/scaleway";

const policy: RetryPolicy = { attempts: 4, baseDelayMs: 100, maxDelayMs: 1_000, retryAfterCapMs: 5_000 };
const now = Date.parse("2026-05-01T12:00:00Z");

describe("scalewayVerdict", () => {
    it("retries a 429 with the Retry-After it sends", () => {
        expect(scalewayVerdict({ status: 429, retryAfter: "2" }, now)).toEqual({ retry: true, retryAfterMs: 2_000 });
        expect(scalewayVerdict({ status: 429, retryAfter: null }, now)).toEqual({ retry: true, retryAfterMs: undefined });
    });

    it("retries 5xx and 409 transient_state, and nothing else", () => {
        expect(scalewayVerdict({ status: 503 }, now)).toEqual({ retry: true, retryAfterMs: undefined });
        expect(scalewayVerdict({ status: 503, retryAfter: "30" }, now)).toEqual({ retry: true, retryAfterMs: 30_000 });
        expect(scalewayVerdict({ status: 500 }, now).retry).toBe(true);
        expect(scalewayVerdict({ status: 409, errorType: "transient_state" }, now).retry).toBe(true);
        for (const response of [{ status: 409, errorType: "already_exists" }, { status: 400 }, { status: 404 }, { status: 200 }]) {
            expect(scalewayVerdict(response, now), JSON.stringify(response)).toEqual({ retry: false });
        }
    });
});

describe("retryingFetch", () => {
    it("replays the request, body included, until an answer that is not worth retrying", async () => {
        const answers = [
            new Response("{}", { status: 503 }),
            new Response(JSON.stringify({ type: "transient_state", message: "lb is pending" }), {
                status: 409,
                headers: { "content-type": "application/json" },
            }),
            new Response("{}", { status: 429, headers: { "retry-after": "1" } }),
            new Response('{"ok":true}', { status: 200, headers: { "content-type": "application/json" } }),
        ];
        const bodies: string[] = [];
        const waits: number[] = [];
        const fetchWithRetries = retryingFetch(
            { ...policy, attempts: 5 },
            (ms) => Promise.resolve(void waits.push(ms)),
            async (input) => {
                bodies.push(await (input as Request).text());
                return answers.shift() as Response;
            },
        );
        const response = await fetchWithRetries("http://127.0.0.1:1/x", { method: "POST", body: '{"name":"n"}' });
        expect(response.status).toBe(200);
        expect(bodies).toEqual(Array(4).fill('{"name":"n"}'));
        expect(waits).toHaveLength(3);
        expect(waits[2]).toBe(1_000);
    });

    it("gives the last failure back once the attempts are spent", async () => {
        let calls = 0;
        const fetchWithRetries = retryingFetch(
            policy,
            () => Promise.resolve(),
            () => {
                calls += 1;
                return Promise.resolve(new Response("{}", { status: 502 }));
            },
        );
        expect((await fetchWithRetries("http://127.0.0.1:1/x")).status).toBe(502);
        expect(calls).toBe(policy.attempts);
    });
});

describe("certificateName", () => {
    const notAfter = new Date("2026-08-28T11:59:17Z");
    it("shows the common name, how many other names, the expiry date and the serial's start", () => {
        expect(certificateName(["admin.example.com", "admin.example.org", "x.example.com"], notAfter, "03a1b2c3d4e5f6")).toBe(
            "admin.example.com +2 exp 2026-08-28 03a1b2c3",
        );
        expect(certificateName(["admin.example.com"], notAfter, "ff")).toBe("admin.example.com exp 2026-08-28 ff");
    });

    it("stays within the API's name length by shortening the common name", () => {
        const longName = `${"a".repeat(63)}.${"b".repeat(63)}.${"c".repeat(63)}.${"d".repeat(57)}.example.com`;
        const name = certificateName([longName, "x.example.com"], notAfter, "0123456789");
        expect(name).toHaveLength(CERTIFICATE_NAME_MAX_LENGTH);
        expect(name.endsWith(" +1 exp 2026-08-28 01234567")).toBe(true);
    });
});

describe("the ARI certID in a certificate's name", () => {
    const notAfter = new Date("2026-08-28T11:59:17Z");
    const certId = "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE";
    const ready = (name: string, names: string[], expires: string) => ({
        name,
        status: "ready" as const,
        commonName: names[0],
        subjectAlternativeName: names.slice(1),
        notValidAfter: new Date(expires),
    });

    it("is carried at the end of the name, read back, and kept when the common name is shortened", () => {
        const name = certificateName(["admin.example.com"], notAfter, "ff", certId);
        expect(name).toBe(`admin.example.com exp 2026-08-28 ff ari:${certId}`);
        expect(ariCertIdInName(name)).toBe(certId);
        const long = certificateName(
            [`${"a".repeat(63)}.${"b".repeat(63)}.${"c".repeat(63)}.${"d".repeat(57)}.example.com`],
            notAfter,
            "ff",
            certId,
        );
        expect(long).toHaveLength(CERTIFICATE_NAME_MAX_LENGTH);
        expect(ariCertIdInName(long)).toBe(certId);
        expect(ariCertIdInName("admin.example.com exp 2026-08-28 ff")).toBeUndefined();
        expect(ariCertIdInName("hand-made admin certificate")).toBeUndefined();
    });

    it("names the predecessor: the LB's ready, unexpired certificate for exactly these names that expires last", () => {
        const now = new Date("2026-08-01T00:00:00Z");
        const names = ["admin.example.com", "admin.example.org"];
        const certificates = [
            ready(`admin.example.com +1 exp 2026-08-20 aa ari:older.AA`, names, "2026-08-20T00:00:00Z"),
            ready(
                `admin.example.com +1 exp 2026-08-28 bb ari:newer.BB`,
                ["admin.example.org", "admin.example.com"],
                "2026-08-28T00:00:00Z",
            ),
            ready(`admin.example.com exp 2026-09-28 cc ari:other-names.CC`, ["admin.example.com"], "2026-09-28T00:00:00Z"),
            ready(`admin.example.com +1 exp 2026-07-28 dd ari:expired.DD`, names, "2026-07-28T00:00:00Z"),
            ready("hand-made", names, "2026-12-28T00:00:00Z"),
            { ...ready(`admin.example.com +1 exp 2026-10-28 ee ari:in-error.EE`, names, "2026-10-28T00:00:00Z"), status: "error" as const },
        ];
        expect(predecessorAriCertId(certificates, names, now)).toBe("newer.BB");
        expect(predecessorAriCertId(certificates, ["x.example.com"], now)).toBeUndefined();
    });
});

describe("isCcmOwnedFrontend", () => {
    it("recognises the CCM's <service-uid>_tcp_<port> names", () => {
        expect(isCcmOwnedFrontend("915d146e-fef6-4873-92f9-58cbea07ac4e_tcp_443")).toBe(true);
        expect(isCcmOwnedFrontend("admin-https")).toBe(false);
        expect(isCcmOwnedFrontend("x915d146e-fef6-4873-92f9-58cbea07ac4e_tcp_443")).toBe(false);
    });
});

describe("frontendsToRelease", () => {
    it("picks the frontends carrying the certificate, except the CCM's", () => {
        const frontends = [
            { name: "admin-https", certificateIds: ["c1", "c2"] },
            { name: "admin-https-alt", certificateIds: ["c1"] },
            { name: "915d146e-fef6-4873-92f9-58cbea07ac4e_tcp_443", certificateIds: ["c1"] },
            { name: "other", certificateIds: ["c2"] },
        ];
        expect(frontendsToRelease(frontends, "c1").map((frontend) => frontend.name)).toEqual(["admin-https", "admin-https-alt"]);
        expect(frontendsToRelease(frontends, "c3")).toEqual([]);
    });
});

describe("frontendUpdateRequest", () => {
    it("round-trips every field of the frontend and only swaps the certificates", () => {
        const request = frontendUpdateRequest(
            "fr-par-1",
            {
                id: "fd7c47b7-9214-4945-9bae-67f18bfe0070",
                name: "admin-https",
                inboundPort: 443,
                backend: { id: "b33097cf-4e49-456b-990b-1bc8a64caef3" },
                timeoutClient: "600000",
                certificateIds: ["aba65e0d-7391-4685-b8c3-f86b88c2ade5"],
                enableHttp3: true,
                connectionRateLimit: 50,
                enableAccessLogs: true,
            },
            ["0f7c1c3e-1111-4222-8333-944455556666"],
        );
        expect(request).toEqual({
            zone: "fr-par-1",
            frontendId: "fd7c47b7-9214-4945-9bae-67f18bfe0070",
            name: "admin-https",
            inboundPort: 443,
            backendId: "b33097cf-4e49-456b-990b-1bc8a64caef3",
            timeoutClient: "600000",
            certificateIds: ["0f7c1c3e-1111-4222-8333-944455556666"],
            enableHttp3: true,
            connectionRateLimit: 50,
            enableAccessLogs: true,
        });
    });

    it("refuses a frontend without a backend", () => {
        expect(() =>
            frontendUpdateRequest(
                "fr-par-1",
                { id: "f", name: "n", inboundPort: 443, certificateIds: [], enableHttp3: false, enableAccessLogs: false },
                ["c"],
            ),
        ).toThrow("frontend n (f) has no backend: the API cannot update it");
    });
});

describe("isStillAttachedRefusal", () => {
    /** The error @scaleway/sdk-client's parser builds from an `invalid_arguments` body. */
    function invalidArguments(body: { message: string; details: Array<{ argument_name: string; reason: string; help_message?: string }> }) {
        const error = Errors.InvalidArgumentsError.fromJSON(400, { type: "invalid_arguments", ...body });
        if (!error) {
            throw new Error("the SDK did not build an InvalidArgumentsError from the body");
        }
        return error;
    }

    it("sees the API's message even when the SDK words the error from details that do not mention the frontend", () => {
        const error = invalidArguments({
            message: "certificate is used on a frontend",
            details: [{ argument_name: "certificate_id", reason: "constraint" }],
        });
        expect(error.message).toBe("invalid argument(s): certificate_id does not respect constraint");
        expect(isStillAttachedRefusal(error)).toBe(true);
    });

    it("sees it in the details' help message too", () => {
        const error = invalidArguments({
            message: "invalid argument(s)",
            details: [{ argument_name: "certificate_id", reason: "constraint", help_message: "certificate is used on a frontend" }],
        });
        expect(isStillAttachedRefusal(error)).toBe(true);
    });

    it("is false for other refusals and other statuses", () => {
        expect(
            isStillAttachedRefusal(
                invalidArguments({ message: "invalid argument(s)", details: [{ argument_name: "certificate_id", reason: "format" }] }),
            ),
        ).toBe(false);
        expect(isStillAttachedRefusal(new Errors.ScalewayError(404, { type: "not_found", message: "frontend is not found" }))).toBe(false);
        expect(isStillAttachedRefusal(new Error("certificate is used on a frontend"))).toBe(false);
    });
});
