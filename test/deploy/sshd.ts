// A throwaway sshd on loopback for the ssh deployer tests: its own host key, client key,
// authorized_keys and config in a temp dir, started in the foreground and stopped after.
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { freePort } from "../helpers/processes.js";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa, type ResultPromise } from "execa";
import { readFile } from "node:fs/promises";

export interface TestSshd {
  readonly port: number;
  readonly identityFile: string;
  /** ssh -o options that trust the throwaway host key. */
  readonly options: string[];
  stop(): Promise<void>;
}


export async function startSshd(): Promise<TestSshd> {
  const dir = await mkdtemp(join(tmpdir(), "deploy-sshd-"));
  await mkdir("/run/sshd", { recursive: true }); // sshd's privilege-separation directory
  await execa("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(dir, "host_key")]);
  await execa("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(dir, "client_key")]);
  await writeFile(join(dir, "authorized_keys"), await readFile(join(dir, "client_key.pub")));
  await writeFile(join(dir, "known_hosts"), "");
  const port = await freePort();
  const config = [
    `Port ${port}`,
    "ListenAddress 127.0.0.1",
    `HostKey ${join(dir, "host_key")}`,
    `AuthorizedKeysFile ${join(dir, "authorized_keys")}`,
    "PermitRootLogin prohibit-password",
    "PasswordAuthentication no",
    "KbdInteractiveAuthentication no",
    "StrictModes no",
    "UsePAM no",
    `PidFile ${join(dir, "sshd.pid")}`,
  ].join("\n");
  await writeFile(join(dir, "sshd_config"), config + "\n");
  const sshd: ResultPromise = execa("/usr/sbin/sshd", ["-D", "-f", join(dir, "sshd_config"), "-e"], { reject: false, buffer: false });
  await new Promise<void>((resolve, reject) => {
    let seen = "";
    const timer = setTimeout(() => reject(new Error(`sshd did not start: ${seen}`)), 10_000);
    sshd.stderr?.on("data", (chunk: Buffer) => {
      seen += chunk.toString();
      if (seen.includes("Server listening")) {
        clearTimeout(timer);
        resolve();
      }
    });
    void sshd.then(() => reject(new Error(`sshd exited: ${seen}`)));
  });
  sshd.stderr?.resume();
  return {
    port,
    identityFile: join(dir, "client_key"),
    options: ["StrictHostKeyChecking=no", `UserKnownHostsFile=${join(dir, "known_hosts")}`, "LogLevel=ERROR"],
    async stop() {
      sshd.kill("SIGTERM");
      await sshd;
      await rm(dir, { recursive: true, force: true });
    },
  };
}
