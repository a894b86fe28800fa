"""The one adapter between leadsbot and Webex, over `webexpythonsdk.WebexAPI`.

Everything the transport needs from Webex goes through `WebexClient`: reading messages,
card actions and people, downloading attachments with the bot token, and sending a
handler's `Reply` (split Markdown, one file per message, the card last). Every call is
retried a bounded number of times; nothing here logs tokens, headers or file URLs.
"""
from __future__ import annotations

import logging
import re
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlparse

import requests
from webexpythonsdk import WebexAPI
from webexpythonsdk.exceptions import ApiError, RateLimitError
from werkzeug.http import parse_options_header

from bot import cards, retry
from bot.replies import split_markdown
from handlers.base import Reply, ReplyFile
from provisioning.errors import UserError
from provisioning.settings import DEFAULT_WEBEX_API_BASE_URL

log = logging.getLogger(__name__)

# Above this many messages a reply is sent as a Markdown file instead of a wall of posts.
MAX_REPLY_MESSAGES = 5
# What may follow `{WEBEX_API_BASE_URL}contents/` in an attachment URL: Webex content IDs.
CONTENT_ID = re.compile(r"[A-Za-z0-9_=-]++(?:/[A-Za-z0-9_=-]++)*+")
CHUNK_BYTES = 64 * 1024
DEFAULT_POLICY = retry.RetryPolicy()


class WebexClient:
    """Webex calls the bot makes, with bounded retries; build one per process."""

    def __init__(
        self,
        access_token: str,
        base_url: str = DEFAULT_WEBEX_API_BASE_URL,
        *,
        timeout: int = 30,
        policy: retry.RetryPolicy = DEFAULT_POLICY,
        scan_waits: int = 10,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.sdk = WebexAPI(access_token=access_token, base_url=base_url,
                            single_request_timeout=timeout, wait_on_rate_limit=False)
        self.timeout = timeout
        self.policy = policy
        self.scan_waits = scan_waits
        self.sleep = sleep
        self._contents = urlparse(base_url.rstrip("/") + "/contents/")
        self._http = requests.Session()
        self._http.headers["Authorization"] = f"Bearer {access_token}"
        self._me: dict | None = None
        self._me_lock = threading.Lock()

    def _call(self, what: str, fn: Callable[[], object]):
        return retry.call(fn, self.policy, what, self.sleep)

    # reading ---------------------------------------------------------------------------------
    def me(self) -> dict:
        """The bot's own person record (fetched once per process)."""
        with self._me_lock:
            if self._me is None:
                self._me = self._call("people.me", lambda: self.sdk.people.me().to_dict())
            return self._me

    def get_message(self, message_id: str) -> dict:
        return self._call("messages.get", lambda: self.sdk.messages.get(message_id).to_dict())

    def get_action(self, action_id: str) -> dict:
        return self._call("attachment_actions.get",
                          lambda: self.sdk.attachment_actions.get(action_id).to_dict())

    def get_person(self, person_id: str) -> dict:
        return self._call("people.get", lambda: self.sdk.people.get(person_id).to_dict())

    # sending ---------------------------------------------------------------------------------
    def post_message(self, room_id: str, *, markdown: str | None = None, file_path: str | None = None,
                     attachment: dict | None = None, parent_id: str | None = None) -> dict:
        """One `messages.create`, retried on 429/5xx/timeouts."""
        def create() -> dict:
            message = self.sdk.messages.create(
                roomId=room_id, markdown=markdown, parentId=parent_id,
                files=[file_path] if file_path else None,
                attachments=[attachment] if attachment else None)
            return message.to_dict()
        return self._call("messages.create", create)

    def edit_message(self, room_id: str, message_id: str, markdown: str) -> dict:
        """Edit one of the bot's own plain messages (`PUT /messages/{id}`: roomId and markdown)."""
        return self._call("messages.update", lambda: self.sdk.messages.update(
            messageId=message_id, roomId=room_id, markdown=markdown).to_dict())

    def send_reply(self, room_id: str, reply: Reply, parent_id: str | None = None) -> list[str]:
        """Post `reply` to the room (and thread); returns the new message IDs in order."""
        chunks = split_markdown(reply.markdown)
        files = list(reply.files)
        if len(chunks) > MAX_REPLY_MESSAGES:
            size_kb = len(reply.markdown.encode("utf-8")) // 1024
            chunks = [f"The reply is long ({size_kb} KB), so it is attached as a file."]
            files.insert(0, ReplyFile("reply.md", reply.markdown.encode("utf-8"), "text/markdown"))
        sent: list[str] = []
        with tempfile.TemporaryDirectory(prefix="leadsbot-reply-") as folder:
            for index, chunk in enumerate(chunks):
                last = index == len(chunks) - 1
                path = _write(folder, files.pop(0)) if last and files else None
                sent.append(self.post_message(room_id, markdown=chunk, file_path=path,
                                              parent_id=parent_id)["id"])
            for item in files:
                sent.append(self.post_message(room_id, file_path=_write(folder, item),
                                              parent_id=parent_id)["id"])
        if reply.card is not None:
            sent.append(self.post_message(room_id, markdown=cards.fallback_text(reply.card),
                                          attachment=cards.attachment(reply.card),
                                          parent_id=parent_id)["id"])
        return sent

    def send_markdown(self, room_id: str, markdown: str, parent_id: str | None = None) -> list[str]:
        """A plain Markdown notice (outbox, failure notices)."""
        return self.send_reply(room_id, Reply(markdown), parent_id)

    # files -----------------------------------------------------------------------------------
    def file_info(self, url: str) -> tuple[str, int | None]:
        """Name and size of an attached file (HEAD; waits while Webex scans it)."""
        response = self._fetch("HEAD", url)
        response.close()
        return _filename(response, url), _length(response)

    def download(self, url: str, max_bytes: int) -> bytes:
        """The file's bytes, refused before reading when larger than `max_bytes`."""
        response = self._fetch("GET", url, stream=True)
        with response:
            size = _length(response)
            if size is not None and size > max_bytes:
                raise UserError(_too_big(size, max_bytes))
            data = bytearray()
            for block in response.iter_content(CHUNK_BYTES):
                data += block
                if len(data) > max_bytes:
                    raise UserError(_too_big(None, max_bytes))
        return bytes(data)

    def _fetch(self, method: str, url: str, stream: bool = False) -> requests.Response:
        """GET/HEAD a file URL with the bot token; 423 (being scanned) waits Retry-After."""
        self._check_file_url(url)
        scans = 0
        while True:
            response = self._call(f"file {method}", lambda: self._request(method, url, stream))
            if response.status_code == 423 and scans < self.scan_waits:
                scans += 1
                wait = retry.retry_after_seconds(response.headers.get("Retry-After"), default=5.0,
                                                cap=self.policy.max_delay)
                response.close()
                log.info("attachment still being scanned; waiting %.0fs (%d/%d)", wait, scans,
                         self.scan_waits)
                self.sleep(wait)
                continue
            if response.status_code == 423:
                response.close()
                raise UserError("Webex is still scanning the attached file for malware; "
                                "please try again in a minute.")
            if response.status_code >= 400:
                response.close()
                raise UserError(f"I could not download the attached file (HTTP {response.status_code}).")
            return response

    def _request(self, method: str, url: str, stream: bool) -> requests.Response:
        response = self._http.request(method, url, stream=stream, timeout=self.timeout)
        if response.status_code == 429 or response.status_code >= 500:
            response.close()
            raise (RateLimitError if response.status_code == 429 else ApiError)(response)
        return response

    def _check_file_url(self, url: str) -> None:
        """Send the bot token only for Webex files: URLs under `{WEBEX_API_BASE_URL}contents/`, with the
        base's scheme (so https in production; plain http only when the base itself is, as in tests).
        Any other URL, even on the Webex host (`…/v1/people/me`), is refused before a byte is fetched."""
        contents = self._contents
        try:
            parsed = urlparse(url)
            same_place = (parsed.scheme == contents.scheme and parsed.netloc.lower() == contents.netloc.lower()
                          and parsed.path.startswith(contents.path))
        except ValueError:
            same_place = False
        if (not same_place or parsed.params or parsed.query or parsed.fragment
                or not CONTENT_ID.fullmatch(parsed.path[len(contents.path):])):
            raise UserError("The attachment is not a Webex file, so I did not download it.")


def _write(folder: str, item: ReplyFile) -> str:
    """Save a reply file under its own (sanitised) name, which Webex shows to the operator."""
    name = Path(item.name).name.strip() or "file"
    path = Path(folder) / name
    item.save(path)
    return str(path)


def _length(response: requests.Response) -> int | None:
    try:
        return int(response.headers["Content-Length"])
    except (KeyError, ValueError):
        return None


def _filename(response: requests.Response, url: str) -> str:
    _, options = parse_options_header(response.headers.get("Content-Disposition", ""))
    name = Path(options.get("filename") or "").name
    return name or Path(urlparse(url).path).name or "attachment"


def _too_big(size: int | None, limit: int) -> str:
    shown = f" ({size:,} bytes)" if size is not None else ""
    return f"The attached file is too large{shown}; the limit is {limit:,} bytes."

