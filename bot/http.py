"""Reading Webex's JSON answers defensively: a body that is not a JSON object reads as empty."""
from __future__ import annotations

import requests


def json_object(response: requests.Response) -> dict:
    """The response's JSON object, or {} when the body is empty, not JSON, or not an object."""
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
