"""Customer Leads: services with their derived status (`status`), listed and reported (`listing`),
and the daily digest of them (`digests`)."""
