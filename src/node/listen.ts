import type { Server } from "node:http";
import { reasonOf, StartupFault } from "./startup-fault";

/** Starts listening; a port that cannot be had is a startup fault with what to do about it. */
export function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const failed = (error: NodeJS.ErrnoException): void => {
      const where = `${host}:${port}`;
      if (error.code === "EADDRINUSE") reject(new StartupFault(`Port ${port} on ${host} is already in use: stop whatever listens there, or set PORT to a free port.`));
      else if (error.code === "EACCES") reject(new StartupFault(`Not allowed to listen on ${where}: use a PORT above 1023, or run with the privilege to bind it.`));
      else if (error.code === "EADDRNOTAVAIL" || error.code === "ENOTFOUND") reject(new StartupFault(`HOST=${host} is not an address of this machine: set HOST to 127.0.0.1, 0.0.0.0 or one of its addresses.`));
      else reject(new StartupFault(`Cannot listen on ${where} (${reasonOf(error)}): check HOST and PORT.`));
    };
    server.once("error", failed);
    server.listen(port, host, () => {
      server.off("error", failed);
      const address = server.address();
      resolve(typeof address === "object" && address !== null ? address.port : port);
    });
  });
}
