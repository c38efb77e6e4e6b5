/**
 * Free loopback ports for the local test world.
 *
 * A port is "free" at the instant it was probed: another process may take it before our
 * child binds it. Launchers therefore treat "address already in use" as retryable
 * (see `isAddressInUse` and `local/pebble.ts`).
 */
import * as dgram from "node:dgram";
import * as net from "node:net";

export const LOOPBACK = "127.0.0.1";

/** A TCP port on 127.0.0.1 that nothing listens on right now (kernel-chosen). */
export function freeTcpPort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const server = net.createServer();
        server.unref();
        server.once("error", reject);
        server.listen({ host: LOOPBACK, port: 0, exclusive: true }, () => {
            const { port } = server.address() as net.AddressInfo;
            server.close(() => resolve(port));
        });
    });
}

/** Whether a UDP socket can bind 127.0.0.1:`port` right now. */
function udpPortIsFree(port: number): Promise<boolean> {
    return new Promise((resolve) => {
        const socket = dgram.createSocket("udp4");
        socket.once("error", () => {
            socket.close();
            resolve(false);
        });
        socket.bind({ address: LOOPBACK, port, exclusive: true }, () => socket.close(() => resolve(true)));
    });
}

/**
 * A port free for both TCP and UDP on 127.0.0.1, for DNS servers (which listen on both).
 * The kernel picks the TCP port; a UDP collision just means trying another.
 */
export async function freeTcpAndUdpPort(maxAttempts = 20): Promise<number> {
    for (let attempt = 0; attempt < maxAttempts; attempt++) {
        const port = await freeTcpPort();
        if (await udpPortIsFree(port)) return port;
    }
    throw new Error(`no port free for both TCP and UDP on ${LOOPBACK} after ${maxAttempts} attempts`);
}

/** Whether something accepts TCP connections on host:port right now. */
export function tcpPortAccepts(port: number, host = LOOPBACK, timeoutMs = 1_000): Promise<boolean> {
    return new Promise((resolve) => {
        const socket = net.connect({ host, port });
        const finish = (accepted: boolean) => {
            socket.destroy();
            resolve(accepted);
        };
        socket.setTimeout(timeoutMs, () => finish(false));
        socket.once("connect", () => finish(true));
        socket.once("error", () => finish(false));
    });
}

/** Whether a child's output says it could not bind its port (another process took it first). */
export function isAddressInUse(output: string): boolean {
    return /address already in use|EADDRINUSE/i.test(output);
}
