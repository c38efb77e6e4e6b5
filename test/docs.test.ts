/**
 * The README and the code cite only what the repository holds: every external fact lives in docs/ with its
 * public source, every `docs/<file>.md` they cite exists, and nothing points at files outside the repository.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { projectRoot } from "../scripts/stackConfig";

const docsDir = join(projectRoot, "docs");
const docs = readdirSync(docsDir).filter((file) => file.endsWith(".md"));

/** The project's own text files: README, docs, code, stack files and workflows (not node_modules). */
function projectFiles(dir = projectRoot): string[] {
    return readdirSync(dir).flatMap((entry) => {
        const path = join(dir, entry);
        if (entry === "node_modules" || entry === ".git") {
            return [];
        }
        if (statSync(path).isDirectory()) {
            return projectFiles(path);
        }
        return /\.(ts|md|ya?ml|json)$/.test(entry) && !entry.endsWith("package-lock.json") ? [path] : [];
    });
}

const files = projectFiles().filter((path) => !path.startsWith(join(projectRoot, "test", "fixtures", "preview")));

describe("docs/", () => {
    it("indexes every file it holds", () => {
        const index = readFileSync(join(docsDir, "README.md"), "utf8");
        for (const file of docs.filter((name) => name !== "README.md")) {
            expect(index, file).toContain(`(${file})`);
        }
    });

    it.each(docs.filter((name) => name !== "README.md"))("%s names its public sources", (file) => {
        const text = readFileSync(join(docsDir, file), "utf8");
        expect(text).toMatch(/\nSources:\n/);
        const sources = text.slice(text.lastIndexOf("\nSources:\n"));
        expect(sources.match(/https:\/\/\S+/g)?.length ?? 0).toBeGreaterThan(0);
    });
});

describe("citations", () => {
    it("every docs/<file>.md cited by the README, the code or the stack files exists", () => {
        const missing: string[] = [];
        let cited = 0;
        for (const path of files) {
            for (const match of readFileSync(path, "utf8").matchAll(/(?<![\w/.-])docs\/([a-z0-9-]+\.md)/g)) {
                cited += 1;
                if (!existsSync(join(docsDir, match[1]))) {
                    missing.push(`${relative(projectRoot, path)}: docs/${match[1]}`);
                }
            }
        }
        expect(missing).toEqual([]);
        expect(cited).toBeGreaterThan(10);
    });

    it("nothing cites files outside the repository or unwritten notes", () => {
        const outside = [/\.\.\/shared\b/, /shared\/seeds/, /field notes/i, /\bthe seeds\b/i, /\bseeds'/i];
        const offenders = files
            .filter((path) => path !== join(projectRoot, "test", "docs.test.ts"))
            .flatMap((path) =>
                readFileSync(path, "utf8")
                    .split("\n")
                    .flatMap((line, index) =>
                        outside.some((pattern) => pattern.test(line))
                            ? [`${relative(projectRoot, path)}:${index + 1}: ${line.trim()}`]
                            : [],
                    ),
            );
        expect(offenders).toEqual([]);
    });
});
