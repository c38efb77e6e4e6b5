/**
 * Checkouts of the project other than this one, for the engine suite's packaging proofs, and what the
 * engine stored about the certificate.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { cp } from "node:fs/promises";
import * as path from "node:path";
import { promisify } from "node:util";
import { CERTIFICATE_TYPE } from "./certificateStack";
import { type Engine, linkNodeModules, REPOSITORY } from "./engine";

const run = promisify(execFile);
const PROJECT_FILES = ["components", "package.json", "tsconfig.json"];

/** A checkout at `<engine root>/<name>` holding the project's files, with this checkout's node_modules linked. */
export async function linkedCheckout(engine: Engine, name: string): Promise<string> {
    const directory = path.join(engine.root, name);
    await Promise.all(PROJECT_FILES.map((file) => cp(path.join(REPOSITORY, file), path.join(directory, file), { recursive: true })));
    await linkNodeModules(directory);
    return directory;
}

/**
 * A checkout as a CI runner installs it for deployments: the repository's tracked files (what `git clone`
 * gives, with the working tree's edits) copied to `directory`, then `npm ci --omit=dev` there: its own
 * `node_modules` without dev dependencies, the provider package built by the root's `prepare` script,
 * nothing linked to this checkout.
 */
export async function installedCheckout(directory: string): Promise<void> {
    const { stdout } = await run("git", ["ls-files", "-z"], { cwd: REPOSITORY, maxBuffer: 16 << 20 });
    const files = stdout.split("\0").filter((file) => file.length > 0 && existsSync(path.join(REPOSITORY, file)));
    await Promise.all(files.map((file) => cp(path.join(REPOSITORY, file), path.join(directory, file))));
    // The npm cache serves what it holds (CI and developers have installed this lockfile before), the registry the rest.
    await run("npm", ["ci", "--omit=dev", "--prefer-offline", "--no-audit", "--no-fund"], { cwd: directory, maxBuffer: 64 << 20 });
}

export interface StoredResource {
    type: string;
    urn: string;
    id?: string;
    inputs?: Record<string, unknown>;
    outputs?: Record<string, unknown>;
}

/** The certificate resource of a stack as `pulumi stack export` prints it (secrets as ciphertext). */
export async function storedCertificate(engine: Engine, stackName: string, workDir: string): Promise<StoredResource> {
    const exported = JSON.parse(await engine.cli(["stack", "export", "--stack", stackName], workDir)) as {
        deployment: { resources?: StoredResource[] };
    };
    const certificates = (exported.deployment.resources ?? []).filter((resource) => resource.type === CERTIFICATE_TYPE);
    if (certificates.length !== 1) {
        throw new Error(`stack ${stackName} holds ${certificates.length} certificate resources, expected 1`);
    }
    return certificates[0];
}

/** The provider closure the engine stored for a certificate (inputs and outputs carry the same one). */
export function storedClosure(resource: StoredResource): string {
    const closure = resource.outputs?.__provider;
    if (typeof closure !== "string" || closure !== resource.inputs?.__provider) {
        throw new Error(`certificate ${resource.urn} has no stored provider closure, or different ones in inputs and outputs`);
    }
    return closure;
}
