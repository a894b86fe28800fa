"""Metering (SPEC §1, §4 `usage`): each number's live stretches (`history`) and what a month used (`usage`)."""
