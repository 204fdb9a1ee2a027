"""`make cluster`: the production topology on one machine.

    INSTANCES (3) gunicorn instances of the app ─┐
    HAProxy on CLUSTER_PORT (8000), round robin ─┤── PostgreSQL (DATABASE_URL), Redis (REDIS_URL)
    Celery worker(s) and Celery beat on Redis ───┤
    the development identity provider ───────────┘

Every instance shares the database, Redis (sessions, rate limits, status snapshots, the
verification queue, the Celery broker) and the instance folder (keys and blobs; on several
machines: a shared volume or object storage). The instances run GOVSERVICE_ENV=production
(SESSION_COOKIE_SECURE off: plain HTTP on 127.0.0.1), so their secrets must exist before they
start: the launcher creates them once in the instance folder unless they are in the environment.

    python deploy/cluster.py            (what `make cluster` runs; Ctrl-C stops everything)

Settings: INSTANCES, CLUSTER_PORT (the instances listen on the next ports, the provider on
CLUSTER_PORT + 99), CLUSTER_WORKERS (gunicorn workers per instance, 2), CELERY_CONCURRENCY (2),
GOVSERVICE_INSTANCE (./instance/cluster), DATABASE_URL, REDIS_URL, CELERY_BROKER_URL.
`Cluster` is what e2e/test_cluster.py starts and stops.
"""

from __future__ import annotations

import os
import shutil
import signal
import string
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DEFAULT_DATABASE = "postgresql+psycopg://postgres@127.0.0.1:5432/govservice"
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"


@dataclass
class Process:
    name: str
    popen: subprocess.Popen

    def alive(self) -> bool:
        return self.popen.poll() is None

    def signal(self, sig: int) -> None:
        """To the process and everything it started (its own session)."""
        try:
            os.killpg(self.popen.pid, sig)
        except ProcessLookupError:
            pass


@dataclass
class Cluster:
    instances: int = 3
    port: int = 8000
    workers: int = 2
    concurrency: int = 2
    database_url: str = DEFAULT_DATABASE
    redis_url: str = DEFAULT_REDIS
    broker_url: str = ""
    folder: str = str(ROOT / "instance" / "cluster")
    extra_env: dict = field(default_factory=dict)
    log_dir: str | None = None
    processes: list[Process] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def idp_port(self) -> int:
        return self.port + 99

    def instance_port(self, i: int) -> int:
        return self.port + 1 + i

    def env(self) -> dict:
        env = dict(
            os.environ,
            GOVSERVICE_ENV="production",
            SESSION_COOKIE_SECURE="0",
            GOVSERVICE_INSTANCE=self.folder,
            DATABASE_URL=self.database_url,
            REDIS_URL=self.redis_url,
            CELERY_BROKER_URL=self.broker_url or self.redis_url,
            PUBLIC_URL=self.url,
            DEV_IDP_URL=f"http://127.0.0.1:{self.idp_port}",
            LOG_FORMAT="json",
            PYTHONUNBUFFERED="1",
        )
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        env.update(self.extra_env)
        return env

    # ------------------------------------------------------------------ start

    def prepare(self) -> None:
        """Secrets once into the instance folder (before any process could make its own)."""
        sys.path.insert(0, str(ROOT))
        from govservice.core.keys import instance_secret
        from govservice.ops.settings import SECRETS  # the secrets a production start requires

        Path(self.folder).mkdir(parents=True, exist_ok=True)
        self._create_database()
        for name, variable in SECRETS:
            if not (variable == "DATA_KEY" and os.environ.get("DATA_KEYS")):
                instance_secret(self.folder, name, variable)

    def _create_database(self) -> None:
        """The PostgreSQL database named, made if the server does not have it yet."""
        from sqlalchemy import create_engine, text
        from sqlalchemy.engine import make_url

        url = make_url(self.database_url)
        if url.get_backend_name() != "postgresql":
            raise SystemExit(
                f"make cluster: DATABASE_URL must name PostgreSQL (several instances share it), "
                f"not {url.get_backend_name()}"
            )
        admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": url.database}).first():
                    conn.execute(text(f'CREATE DATABASE "{url.database}"'))
        finally:
            admin.dispose()

    def _setup(self) -> subprocess.Popen:
        """`flask govservice db upgrade` and `... demo`, in one process (one start of the app, not two),
        while the other processes start: nothing before the first request needs the tables."""
        return subprocess.Popen(
            [
                str(BIN / "python"),
                "-c",
                "from govservice import create_app\nfrom govservice.app import demo, migrate\n"
                "with create_app().app_context():\n    migrate.upgrade()\n    list(demo.load())",
            ],
            cwd=ROOT,
            env=self.env(),
            stdout=subprocess.DEVNULL,
        )

    def _spawn(self, name: str, argv: list[str], env: dict | None = None) -> Process:
        out = open(Path(self.log_dir) / f"{name}.log", "ab") if self.log_dir else None
        popen = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=env or self.env(),
            start_new_session=True,
            stdout=out,
            stderr=subprocess.STDOUT if out else None,
        )
        process = Process(name, popen)
        self.processes.append(process)
        return process

    def start_instance(self, i: int) -> Process:
        metrics = Path(self.folder) / "metrics" / f"app{i + 1}"
        shutil.rmtree(metrics, ignore_errors=True)
        env = dict(
            self.env(),
            GUNICORN_BIND=f"127.0.0.1:{self.instance_port(i)}",
            GUNICORN_WORKERS=str(self.workers),
            PROMETHEUS_MULTIPROC_DIR=str(metrics),
        )
        return self._spawn(f"app{i + 1}", [str(BIN / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"), "app:app"], env)

    def haproxy_config(self) -> Path:
        template = string.Template((ROOT / "deploy" / "haproxy.cfg.in").read_text())
        servers = "\n".join(
            f"    server app{i + 1} 127.0.0.1:{self.instance_port(i)} check" for i in range(self.instances)
        )
        path = Path(self.folder) / "haproxy.cfg"
        path.write_text(template.substitute(bind=f"127.0.0.1:{self.port}", servers=servers))
        return path

    def start(self, timeout: float = 90) -> None:
        self.prepare()
        setup = self._setup()
        env = self.env()
        self._spawn(
            "idp",
            [
                str(BIN / "python"),
                "-m",
                "govservice.identity.devidp",
                "--port",
                str(self.idp_port),
                "--instance",
                self.folder,
            ],
            env,
        )
        for i in range(self.instances):
            self.start_instance(i)
        self._spawn(
            "worker",
            [
                str(BIN / "celery"),
                "-A",
                "govservice.app.worker",
                "worker",
                "--concurrency",
                str(self.concurrency),
                "--loglevel",
                "warning",
                "--without-gossip",
                "--without-mingle",
                "--hostname",
                f"govservice-{self.port}@%h",
            ],
            env,
        )
        self._spawn(
            "beat",
            [
                str(BIN / "celery"),
                "-A",
                "govservice.app.worker",
                "beat",
                "--loglevel",
                "warning",
                "--schedule",
                str(Path(self.folder) / "celerybeat-schedule"),
            ],
            env,
        )
        haproxy = shutil.which("haproxy") or "/usr/sbin/haproxy"
        config = self.haproxy_config()
        subprocess.run([haproxy, "-c", "-q", "-f", str(config)], check=True)
        self._spawn("haproxy", [haproxy, "-db", "-f", str(config)], env)
        if setup.wait(timeout=timeout):
            self.stop()
            raise RuntimeError("migrating the database or loading the demo data failed")
        self.wait_ready(timeout)

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        targets = [f"http://127.0.0.1:{self.instance_port(i)}/readyz" for i in range(self.instances)]
        targets += [f"http://127.0.0.1:{self.idp_port}/.well-known/openid-configuration", f"{self.url}/healthz"]
        for target in targets:
            while True:
                dead = [p.name for p in self.processes if not p.alive()]
                if dead:
                    raise RuntimeError(
                        f"{', '.join(dead)} stopped while starting" + (f" (see {self.log_dir})" if self.log_dir else "")
                    )
                try:
                    if requests.get(target, timeout=2).status_code == 200:
                        break
                except requests.RequestException:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{target} did not answer within {timeout:.0f} s")
                time.sleep(0.2)
        # and the load balancer has every instance in its rotation (its checks need two passes)
        seen = set()
        while len(seen) < self.instances:
            if time.monotonic() > deadline:
                raise RuntimeError(f"the load balancer routes to {sorted(seen)} only")
            seen.add(requests.get(f"{self.url}/healthz", timeout=2).headers.get("X-Served-By"))
            time.sleep(0.05)

    # ------------------------------------------------------------------ stop

    def stop(self, timeout: float = 20) -> None:
        for process in reversed(self.processes):
            process.signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for process in reversed(self.processes):
            try:
                process.popen.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.signal(signal.SIGKILL)
                process.popen.wait()
        self.processes.clear()

    def topology(self) -> str:
        lines = [f"  load balancer (HAProxy, round robin): {self.url}/"]
        lines += [
            f"  app{i + 1} (gunicorn, {self.workers} workers): http://127.0.0.1:{self.instance_port(i)}/  "
            f"(/readyz, /metrics)"
            for i in range(self.instances)
        ]
        lines += [
            f"  Celery worker (concurrency {self.concurrency}) and Celery beat on {self.broker_url or self.redis_url}",
            f"  identity provider (development): http://127.0.0.1:{self.idp_port}/",
            f"  PostgreSQL: {self.database_url.split('@')[-1]}   Redis: {self.redis_url}",
            f"  instance folder (keys, blobs): {self.folder}",
        ]
        return "\n".join(lines)


def from_environment() -> Cluster:
    env = os.environ
    return Cluster(
        instances=int(env.get("INSTANCES", "3")),
        port=int(env.get("CLUSTER_PORT", "8000")),
        workers=int(env.get("CLUSTER_WORKERS", "2")),
        concurrency=int(env.get("CELERY_CONCURRENCY", "2")),
        database_url=env.get("DATABASE_URL") or DEFAULT_DATABASE,
        redis_url=env.get("REDIS_URL") or DEFAULT_REDIS,
        broker_url=env.get("CELERY_BROKER_URL", ""),
        folder=env.get("GOVSERVICE_INSTANCE") or str(ROOT / "instance" / "cluster"),
    )


def main() -> None:
    cluster = from_environment()
    stopping = []

    def stop(signum, _frame):
        stopping.append(signum)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        cluster.start()
        print(
            f"\ngovservice cluster is up: {cluster.url}/\n{cluster.topology()}\n  Ctrl-C stops everything.\n",
            flush=True,
        )
        while not stopping:
            dead = [p.name for p in cluster.processes if not p.alive()]
            if dead:
                print(f"{', '.join(dead)} stopped; stopping the cluster", file=sys.stderr)
                break
            time.sleep(0.5)
    finally:
        print("stopping ...", file=sys.stderr)
        cluster.stop()


if __name__ == "__main__":
    main()
