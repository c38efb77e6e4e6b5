/**
 * The policy SDK's unknown-checking proxy, typed. `@pulumi/policy` exports `unknownCheckingProxy` and
 * `UnknownValueError` at run time (its index re-exports them), but its published declarations strip them
 * (proxy.d.ts is `export {}`), so TypeScript sees them untyped.
 */
import * as policySdk from "@pulumi/policy";

interface ProxyExports {
    /** Wraps props like the SDK does for a policy: reading a value unknown during preview throws `UnknownValueError`. */
    unknownCheckingProxy: <T extends object>(props: T) => T;
    UnknownValueError: new (...args: never[]) => Error;
}

export const { unknownCheckingProxy, UnknownValueError } = policySdk as unknown as ProxyExports;
