"""Independent server processes (granian, as `make run` serves) over one database, for multi-process tests."""

import os
import socket
import subprocess
import time
from pathlib import Path

import requests

from idp import serve

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServerProcess:
    def __init__(self, app, instance: Path, extra_env: dict | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        cfg = app.config
        env = {
            **os.environ,
            "DATABASE_URL": cfg["SQLALCHEMY_DATABASE_URI"],
            "SECRET_KEY": cfg["SECRET_KEY"],
            "IDP_ENCRYPTION_KEYS": ",".join(
                f"{k}:{__import__('base64').urlsafe_b64encode(v).decode()}"
                for k, v in cfg["IDP_ENCRYPTION_KEYS"].items()
            ),
            "IDP_ARGON2_TIME_COST": "1",
            "IDP_ARGON2_MEMORY_KIB": "1024",
            "IDP_INSTANCE_PATH": str(instance),
            "RATELIMIT_ENABLED": "0",
            **(extra_env or {}),
        }
        # output goes to a file (a pipe nobody reads would block a server that logs a lot); kept under
        # test-artifacts so that a failure in CI shows the server's side
        artifacts = ROOT / "test-artifacts"
        artifacts.mkdir(exist_ok=True)
        self.log_path = artifacts / f"server-{self.port}.log"
        self.log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            serve.command(port=self.port, workers=1, threads=32),
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                requests.get(self.url + "/", timeout=5)
                return
            except requests.RequestException:  # refused before the bind, or a read timeout while the worker boots
                if self.process.poll() is not None:
                    raise RuntimeError(self.log_path.read_text(errors="replace")[-4000:]) from None
                time.sleep(0.2)
        self.stop()  # never leave a half-started server behind
        raise RuntimeError("server did not start within 60 s")

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()
        if "Traceback" not in self.log_path.read_text(errors="replace"):
            self.log_path.unlink()  # a clean run leaves nothing behind
