import * as net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { freeTcpAndUdpPort, freeTcpPort, isAddressInUse, tcpPortAccepts } from "../local/ports";
import { launch, MissingBinaryError, pidIsAlive, ProcessStartError, requireBinary, runningProcesses, stopAll } from "../local/processes";

const node = process.execPath;

afterEach(async () => {
    await stopAll();
});

describe("ports", () => {
    it("finds a TCP port nothing listens on, and sees a listener once one binds it", async () => {
        const port = await freeTcpPort();
        expect(await tcpPortAccepts(port)).toBe(false);
        const server = net.createServer().listen(port, "127.0.0.1");
        await new Promise((resolve) => server.once("listening", resolve));
        expect(await tcpPortAccepts(port)).toBe(true);
        await new Promise((resolve) => server.close(resolve));
    });

    it("finds a port free for both TCP and UDP", async () => {
        const port = await freeTcpAndUdpPort();
        expect(port).toBeGreaterThan(0);
        expect(await tcpPortAccepts(port)).toBe(false);
    });

    it("recognises a bind collision in a child's output", () => {
        expect(isAddressInUse("listen tcp 127.0.0.1:1234: bind: address already in use")).toBe(true);
        expect(isAddressInUse("Listening on: 127.0.0.1:1234")).toBe(false);
    });
});

describe("launch", () => {
    it("waits for the log line and the TCP port, captures output, and stops the process", async () => {
        const port = await freeTcpPort();
        const script = `
            console.log("booting");
            setTimeout(() => require("net").createServer().listen(${port}, "127.0.0.1", () => console.log("serving")), 200);`;
        const started = await launch({
            name: "toy server",
            command: node,
            args: ["-e", script],
            ready: { logLine: /serving/, tcpPorts: [port] },
        });
        expect(started.output()).toContain("booting");
        expect(await tcpPortAccepts(port)).toBe(true);
        expect(runningProcesses()).toContain(started);

        const exit = await started.stop();
        expect(exit.signal).toBe("SIGTERM");
        expect(pidIsAlive(started.pid)).toBe(false);
        expect(runningProcesses()).not.toContain(started);
        expect(await started.stop()).toEqual(exit);
    });

    it("fails with the captured output when the process exits before it is ready", async () => {
        const failure = launch({
            name: "crasher",
            command: node,
            args: ["-e", `console.error("bind: address already in use"); process.exit(3)`],
            ready: { logLine: /never/ },
        });
        await expect(failure).rejects.toBeInstanceOf(ProcessStartError);
        await expect(failure).rejects.toThrow(/crasher exited with code 3 before it was ready[\s\S]*address already in use/);
    });

    it("fails after the bound when readiness never comes, and leaves no process behind", async () => {
        const port = await freeTcpPort();
        let caught: unknown;
        try {
            await launch({
                name: "sleeper",
                command: node,
                args: ["-e", `console.log("pid " + process.pid); setInterval(() => {}, 1000)`],
                ready: { tcpPorts: [port] },
                readyTimeoutMs: 500,
            });
        } catch (error) {
            caught = error;
        }
        expect(caught).toBeInstanceOf(ProcessStartError);
        const pid = Number(/pid (\d+)/.exec((caught as ProcessStartError).output)?.[1]);
        expect(pid).toBeGreaterThan(0);
        expect(pidIsAlive(pid)).toBe(false);
    });

    it("escalates to SIGKILL when SIGTERM is ignored", async () => {
        const stubborn = await launch({
            name: "stubborn",
            command: node,
            args: ["-e", `process.on("SIGTERM", () => console.log("ignoring TERM")); console.log("up"); setInterval(() => {}, 1000)`],
            ready: { logLine: /up/ },
            stopTimeoutMs: 300,
        });
        const exit = await stubborn.stop();
        expect(exit.signal).toBe("SIGKILL");
        expect(stubborn.output()).toContain("ignoring TERM");
        expect(pidIsAlive(stubborn.pid)).toBe(false);
    });

    it("stopAll stops every tracked process", async () => {
        const args = ["-e", `console.log("up"); setInterval(() => {}, 1000)`];
        const first = await launch({ name: "one", command: node, args, ready: { logLine: /up/ } });
        const second = await launch({ name: "two", command: node, args, ready: { logLine: /up/ } });
        await stopAll();
        expect(pidIsAlive(first.pid)).toBe(false);
        expect(pidIsAlive(second.pid)).toBe(false);
        expect(runningProcesses()).toHaveLength(0);
    });

    it("names the install command when a binary is missing", async () => {
        const hint = "install it with `apt-get install -y pebble` (Debian package)";
        expect(() => requireBinary("no-such-binary-for-tests", hint)).toThrow(MissingBinaryError);
        expect(() => requireBinary("no-such-binary-for-tests", hint)).toThrow(
            "no-such-binary-for-tests is not on PATH: install it with `apt-get install -y pebble` (Debian package)",
        );
        await expect(launch({ name: "ghost", command: "no-such-binary-for-tests", installHint: hint })).rejects.toThrow(hint);
    });
});
