"""LOG_FORMAT: json lines carry the fields a record concerns (extra= and the event context)."""
from __future__ import annotations

import io
import json
import logging

import pytest
from click.testing import CliRunner

from bot import logs
from bot.cli import main


@pytest.fixture
def json_lines():
    """A logger writing through the JSON formatter and the context filter into a buffer."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.formatter("json"))
    handler.addFilter(logs.ContextFilter())
    logger = logging.getLogger("leadsbot.test.json")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    yield logger, lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    logger.removeHandler(handler)


def test_one_object_per_line_with_extra_fields_and_the_context(json_lines):
    logger, records = json_lines
    logger.info("sync task %s failed", 7, extra={"upload": 12, "service": 3})
    with logs.context(event_id="EV-1", space="ROOM-1"):
        logger.warning("line one\nline two")
        with logs.context(upload=5):
            logger.error("inner", extra={"space": "ROOM-2"})  # extra= wins over the context
    logger.debug("after")
    first, second, inner, after = records()
    assert first["message"] == "sync task 7 failed" and first["level"] == "INFO"
    assert first["logger"] == "leadsbot.test.json" and first["time"]
    assert (first["upload"], first["service"]) == (12, 3)
    assert second["message"] == "line one\nline two" and second["event_id"] == "EV-1" and second["space"] == "ROOM-1"
    assert (inner["event_id"], inner["space"], inner["upload"]) == ("EV-1", "ROOM-2", 5)
    assert "event_id" not in after and "upload" not in after


def test_a_traceback_stays_in_its_line(json_lines):
    logger, records = json_lines
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        logger.exception("handler failed")
    [record] = records()
    assert "RuntimeError: boom" in record["exc_info"]


def test_log_format_is_text_or_json():
    assert logs.log_format("") == "text" and logs.log_format("JSON") == "json"
    with pytest.raises(ValueError, match="LOG_FORMAT must be 'text' or 'json', not 'xml'"):
        logs.log_format("xml")
    result = CliRunner().invoke(main, ["db", "upgrade"], env={"LOG_FORMAT": "xml"})
    assert result.exit_code == 1
    assert result.output == "Error: LOG_FORMAT must be 'text' or 'json', not 'xml'\n"
