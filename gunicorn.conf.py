"""gunicorn settings for govservice: `gunicorn -c gunicorn.conf.py app:app`.

Every value can be overridden from the environment (GUNICORN_*), so the benchmarks and a
deployment run the app and a hello-world route under exactly the same settings.
"""

import gc
import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# Sync workers, one request at a time each: the platform's requests are short (no long polling),
# and a worker that never shares its process between requests cannot leak one request's state
# into another's. One worker a core and one more, so that one waiting on PostgreSQL or Redis
# leaves its core to another; not gunicorn's general advice of 2 × cores + 1: PostgreSQL, Redis
# and the Celery worker share these cores, and more processes than that only take turns on them
# (bench/submit_http.py on 2 cores, alternated three times: 252/s with 3 workers, 229/s with 5,
# at 3.8-4.1 ms of CPU a POST against 4.9).
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "sync")
workers = int(os.environ.get("GUNICORN_WORKERS", str(multiprocessing.cpu_count() + 1)))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
# Load the application once in the master: the catalogue, certificate types, fonts and keys are
# read once and the workers share those pages copy-on-write.
preload_app = os.environ.get("GUNICORN_PRELOAD", "1") == "1"
backlog = int(os.environ.get("GUNICORN_BACKLOG", "2048"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 20
keepalive = 5
# Recycle a worker after this many requests (with jitter, so they do not all restart together):
# bounds the memory any slow leak in a dependency could take.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "20000"))
max_requests_jitter = max_requests // 10
accesslog = os.environ.get("GUNICORN_ACCESSLOG") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "warning")


def pre_fork(server, worker):
    # What the master loaded (the app, the catalogue, SQLAlchemy's mappers: ~190,000 objects) is
    # never freed: moved out of the collector's reach, a worker's collections no longer walk it
    # (nor write to its pages, which stay shared copy-on-write). The collector's CPU in a worker
    # halves; bench/submit_http.py alternated three times: 272/s against 251/s (median).
    gc.freeze()


def post_fork(server, worker):
    # Connections opened in the master (while preloading) must not be shared with the workers.
    wsgi = worker.app.wsgi()
    if "sqlalchemy" in getattr(wsgi, "extensions", {}):
        from govservice.core.extensions import db

        with wsgi.app_context():
            db.engine.dispose(close=False)


# Prometheus metrics from every worker (govservice/ops/metrics.py, prometheus_client's
# multiprocess mode): each worker writes to files in one folder, /metrics adds them up. Set
# before the app (and with it prometheus_client) is imported; the files of an earlier run are
# removed, or they would be counted again.
def _metrics_folder() -> str:
    import glob
    import tempfile

    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not folder:
        folder = os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="govservice-metrics-")
    os.makedirs(folder, exist_ok=True)
    for stale in glob.glob(os.path.join(folder, "*.db")):
        os.unlink(stale)
    return folder


_metrics_folder()


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
