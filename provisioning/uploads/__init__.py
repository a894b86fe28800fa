"""Uploads: the options an upload applies (`options`), previews (`previews`) and submit/cancel
(`submission`)."""
