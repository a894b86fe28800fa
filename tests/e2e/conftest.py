"""End-to-end tests: the running bot against the fake Webex; the `live` and `make_live` fixtures
come from `tests.support.live_fixtures` (shared with the reliability suite)."""
