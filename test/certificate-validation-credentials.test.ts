import { describe, expect, it } from "vitest";
import { acmeCaCertificatesPath, resolveCloudflareCredentials, resolveScalewayCredentials } from "../components/certificate/credentials";

const accessKey = "SCWABCDEFGHIJ0123456";
const secretKey = "6f0b8c2e-1d3a-4b5c-9e7f-0a1b2c3d4e5f";

describe("resolveScalewayCredentials", () => {
    it("reads the standard Scaleway variables and strips trailing slashes from SCW_API_URL", () => {
        expect(
            resolveScalewayCredentials({ SCW_ACCESS_KEY: accessKey, SCW_SECRET_KEY: secretKey, SCW_API_URL: "http://127.0.0.1:4000/" }),
        ).toEqual({ accessKey, secretKey, apiUrl: "http://127.0.0.1:4000" });
    });

    it("prefers the stack config over the environment", () => {
        const config = (key: string) => ({ "scaleway:accessKey": "SCWZZZZZZZZZZZZZZZZZ", "scaleway:secretKey": secretKey })[key];
        expect(resolveScalewayCredentials({ SCW_ACCESS_KEY: accessKey, SCW_SECRET_KEY: "x" }, config)).toEqual({
            accessKey: "SCWZZZZZZZZZZZZZZZZZ",
            secretKey,
        });
    });

    it("names both the variables and the config keys when a key is missing", () => {
        expect(() => resolveScalewayCredentials({ SCW_ACCESS_KEY: accessKey, SCW_SECRET_KEY: "  " })).toThrow(
            "Scaleway credentials missing: set the environment variable SCW_ACCESS_KEY and SCW_SECRET_KEY, or the stack config " +
                "(pulumi config set --secret scaleway:accessKey <value>; pulumi config set --secret scaleway:secretKey <value>).",
        );
    });

    it("rejects malformed keys without quoting them", () => {
        const badSecret = "not-a-uuid-but-very-secret";
        let message = "";
        try {
            resolveScalewayCredentials({ SCW_ACCESS_KEY: accessKey, SCW_SECRET_KEY: badSecret });
        } catch (error) {
            message = (error as Error).message;
        }
        expect(message).toBe("SCW_SECRET_KEY / scaleway:secretKey is not a Scaleway secret key (expected a UUID).");
        expect(() => resolveScalewayCredentials({ SCW_ACCESS_KEY: "AKIA123", SCW_SECRET_KEY: secretKey })).toThrow(
            "SCW_ACCESS_KEY / scaleway:accessKey is not a Scaleway access key (expected SCW followed by 17 letters or digits).",
        );
    });
});

describe("resolveCloudflareCredentials", () => {
    it("reads CLOUDFLARE_API_TOKEN and CLOUDFLARE_BASE_URL, config first", () => {
        expect(
            resolveCloudflareCredentials({ CLOUDFLARE_API_TOKEN: "env-token", CLOUDFLARE_BASE_URL: "http://127.0.0.1:5000/client/v4/" }),
        ).toEqual({
            apiToken: "env-token",
            baseUrl: "http://127.0.0.1:5000/client/v4",
        });
        expect(
            resolveCloudflareCredentials({ CLOUDFLARE_API_TOKEN: "env-token" }, (key) =>
                key === "cloudflare:apiToken" ? "cfg" : undefined,
            ),
        ).toEqual({
            apiToken: "cfg",
        });
    });

    it("says how to set a missing token", () => {
        expect(() => resolveCloudflareCredentials({})).toThrow(
            "Cloudflare API token missing: set the environment variable CLOUDFLARE_API_TOKEN, or the stack config " +
                "(pulumi config set --secret cloudflare:apiToken <value>).",
        );
    });
});

describe("acmeCaCertificatesPath", () => {
    it("is the ACME_CA_CERTIFICATES path when set", () => {
        expect(acmeCaCertificatesPath({ ACME_CA_CERTIFICATES: "/tmp/pebble-ca.pem" })).toBe("/tmp/pebble-ca.pem");
        expect(acmeCaCertificatesPath({ ACME_CA_CERTIFICATES: "" })).toBeUndefined();
    });
});
