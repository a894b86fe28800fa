"""gunicorn settings for the `web` process (Procfile): `gunicorn -c python:bot.gunicorn_conf ...`.

The app is built in each worker after the fork (no preload). The Procfile builds it with
`start_workers=False`, so these processes only record and acknowledge webhooks; `leadsbot worker`
processes them. Built with workers, each gunicorn worker runs its own inbox threads and the
database decides which one processes which event.
"""
import logging
import os

bind = f"0.0.0.0:{os.environ.get('PORT', '8080')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
worker_class = "gthread"
preload_app = False
graceful_timeout = 20
timeout = 60
accesslog = None  # access lines would carry nothing useful and cost time at 200 req/s


def post_fork(server, worker):
    """Logging for the app's own loggers, at LOG_LEVEL (gunicorn only sets up its own)."""
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO").upper(),
                        format="%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s")


def worker_exit(server, worker):
    """Let the inbox threads finish the event in hand instead of leaving it to lease expiry."""
    app = getattr(worker, "wsgi", None)
    runtime = getattr(app, "extensions", {}).get("leadsbot")
    if runtime is not None:
        runtime.stop()
