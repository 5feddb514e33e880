"""nginx in front of gunicorn instances, run from the shipped deploy/nginx.conf,
for the tests and the benchmarks.

    balancer = Nginx.start([8001, 8002])   # listens on 127.0.0.1:balancer.port
    ...
    balancer.stop()

The shipped file is used as it is, with its own addresses replaced: each line
marked `# address: instance` stands for one upstream (one line per given port),
the line marked `# address: clients` gets a free port. Everything else nginx
writes (logs, temporary files, the pid file) goes under a new temporary folder
given as its prefix (`-p`); nginx runs in the foreground, stopped by its PID.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import processes

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "deploy" / "nginx.conf"
_ADDRESS = re.compile(r"127\.0\.0\.1:\d+")


class NginxUnavailableError(RuntimeError):
    """This machine has no nginx; the message says why."""


def config_for(port: int, upstreams: list[int], shipped: str | None = None) -> str:
    """The shipped config, listening on `port`, balancing over `upstreams`."""
    text = SHIPPED.read_text() if shipped is None else shipped
    lines: list[str] = []
    for line in text.splitlines(keepends=True):
        if line.rstrip().endswith("# address: instance"):
            if not any("# address: instance" in done for done in lines):
                lines += [_ADDRESS.sub(f"127.0.0.1:{upstream}", line) for upstream in upstreams]
        elif line.rstrip().endswith("# address: clients"):
            lines.append(_ADDRESS.sub(f"127.0.0.1:{port}", line))
        else:
            lines.append(line)
    result = "".join(lines)
    if result.count("# address:") != len(upstreams) + 1:
        raise ValueError(f"{SHIPPED} no longer marks its addresses as this module expects")
    return result


class Nginx:
    """One nginx, in a folder of its own; see the module docstring."""

    def __init__(self, folder: Path, port: int, process: subprocess.Popen[bytes]) -> None:
        self.folder = folder
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.process = process
        self.error_log = folder / "logs" / "error.log"

    @classmethod
    def start(cls, upstreams: list[int]) -> Nginx:
        binary = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx")
                                           else None)
        if binary is None:
            raise NginxUnavailableError("no `nginx` on PATH or in /usr/sbin: install it"
                                        " (Debian: apt-get install nginx)")
        folder = Path(tempfile.mkdtemp(prefix="microroute-nginx-"))
        # Run as root, nginx's workers drop to an unprivileged user, who must
        # still reach the temporary folders inside.
        folder.chmod(0o755)
        (folder / "logs").mkdir()
        (folder / "tmp").mkdir()
        port = processes.free_port()
        config = folder / "nginx.conf"
        config.write_text(config_for(port, upstreams))
        with open(folder / "stderr.log", "wb") as stderr:
            process = subprocess.Popen(
                [binary, "-p", f"{folder}/", "-c", str(config), "-g", "daemon off;"],
                stdout=subprocess.DEVNULL, stderr=stderr,
            )
        nginx = cls(folder, port, process)
        if not processes.wait_until_listening(process, port):
            nginx.stop()
            raise NginxUnavailableError(f"nginx did not start: {nginx.log()}")
        return nginx

    def log(self) -> str:
        """What nginx wrote to its error log and stderr."""
        return "".join(path.read_text() for path in (self.folder / "stderr.log", self.error_log)
                       if path.exists())

    def stop(self) -> None:
        processes.stop(self.process)
        shutil.rmtree(self.folder, ignore_errors=True)
