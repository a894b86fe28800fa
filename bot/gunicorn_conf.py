"""gunicorn settings for the `web` process (Procfile): `gunicorn -c python:bot.gunicorn_conf ...`.

The app is built in each worker after the fork (no preload). The Procfile builds it with
`start_workers=False`, so these processes only record and acknowledge webhooks; `leadsbot worker`
processes them. Built with workers, each gunicorn worker runs its own inbox threads and the
database decides which one processes which event.

Metrics: several processes count, so prometheus_client's multiprocess mode is on. Its folder
(`PROMETHEUS_MULTIPROC_DIR`) must be set before any worker imports prometheus_client: when it is
not set, this file makes a private temporary one (removed when gunicorn exits). It is emptied at
start (values of a previous run would be added in), and a worker that exits is marked dead so
its live gauges stop counting.
"""
import glob
import os
import shutil
import tempfile

from bot import metrics_folder

bind = f"0.0.0.0:{os.environ.get('PORT', '8080')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "8"))  # mostly waiting for a group commit (bot/group_commit.py)
worker_class = "gthread"
preload_app = False
graceful_timeout = 20
timeout = 60
accesslog = None  # access lines would carry nothing useful and cost time at 200 req/s

if os.environ.get("LOG_FORMAT", "").strip().lower() == "json":  # gunicorn's own lines as JSON too
    from bot.logs import gunicorn_logconfig

    logconfig_dict = gunicorn_logconfig()

MULTIPROC_ENV = metrics_folder.MULTIPROC_ENV
_made_metrics_dir = None
if not os.environ.get(MULTIPROC_ENV):
    _made_metrics_dir = os.environ[MULTIPROC_ENV] = tempfile.mkdtemp(prefix="leadsbot-metrics-")


def on_starting(server):
    """A clean metrics folder: files left by an earlier run would be summed into this one's."""
    folder = os.environ[MULTIPROC_ENV]
    os.makedirs(folder, exist_ok=True)
    if metrics_folder.made_by_serve(folder):
        return  # `leadsbot serve` made it fresh, and its processing side may be counting already
    for path in glob.glob(os.path.join(folder, "*.db")):
        os.remove(path)


def post_fork(server, worker):
    """Logging for the app's own loggers, at LOG_LEVEL and LOG_FORMAT (gunicorn only sets up its own)."""
    from bot.logs import configure

    configure(os.environ.get("LOG_LEVEL", "INFO"))


def worker_exit(server, worker):
    """Let the inbox threads finish the event in hand instead of leaving it to lease expiry."""
    app = getattr(worker, "wsgi", None)
    runtime = getattr(app, "extensions", {}).get("leadsbot")
    if runtime is not None:
        runtime.stop()


def child_exit(server, worker):
    """A worker is gone (in the master): its metric files stop counting as live."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    if _made_metrics_dir:
        shutil.rmtree(_made_metrics_dir, ignore_errors=True)
