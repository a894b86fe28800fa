"""Releases (SPEC §5.3): a preview of the numbers to take out of a service (`previews`), submit
(`submission`), which numbers need Webex and when (`decision`) and the durable removal (`removal`)."""
