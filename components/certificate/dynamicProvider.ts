/**
 * The provider object `pulumi.dynamic.Resource` serializes into each certificate's state, and that the
 * engine's dynamic-provider process runs later, from whatever checkout, CI runner or consumer project holds
 * the state. It carries no library code and no path: each method `require()`s the compiled lifecycle by
 * package name and versioned entry point (`@scw-private-lb/certificate-provider/v1`), resolved from the
 * `node_modules` of the directory the engine runs it in (the project's). A serialized closure cannot carry
 * relative requires (the engine loads it as a module without a file name) nor top-level imports (they are
 * baked in as deep paths), hence the `require` inside.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { ConfigLookup } from "./credentials";
import type { CertificateLifecycle, LifecycleOptions } from "./lifecycle";

/**
 * The provider object Pulumi serializes. `options` must be plain data plus self-contained functions:
 * it is serialized with it.
 */
export function createCertificateProvider(options: LifecycleOptions = {}): pulumi.dynamic.ResourceProvider {
    const runtime: { config?: ConfigLookup } = {};
    const lifecycle = () => {
        let implementation: typeof import("./v1");
        try {
            // eslint-disable-next-line @typescript-eslint/no-require-imports -- the serialized closure must require by package name at run time
            implementation = require("@scw-private-lb/certificate-provider/v1") as typeof import("./v1");
        } catch (error) {
            const reason = error instanceof Error ? error.message.split("\n")[0] : String(error);
            throw new Error(
                `certificate provider: cannot load @scw-private-lb/certificate-provider/v1 from ${process.cwd()} (${reason}); ` +
                    "install the project's dependencies there (npm ci builds the package) or run npm run build",
            );
        }
        return implementation.certificateLifecycle(options, runtime.config);
    };
    // The engine hands every method untyped (`any`) values: the lifecycle's own signatures say what they are
    // (checked news become create's and update's inputs; olds and props are the outputs create wrote).
    const methods: CertificateLifecycle = {
        check: (olds, news) => lifecycle().check(olds, news),
        diff: (id, olds, news) => lifecycle().diff(id, olds, news),
        create: (inputs) => lifecycle().create(inputs),
        read: (id, props) => lifecycle().read(id, props),
        update: (id, olds, news) => lifecycle().update(id, olds, news),
        delete: (id, props) => lifecycle().delete(id, props),
    };
    return {
        configure(request) {
            runtime.config = (key) => request.config.get(key);
            return Promise.resolve();
        },
        ...methods,
    };
}
