"""Helpers shared by the tests and the benchmarks: the fake Webex cloud, webhook signing, waiting
for background work, temporary databases, running the bot's processes and test data."""
