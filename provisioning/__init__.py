"""The domain: validation, uploads, sync and the inventory, with no Flask or Webex imports.

Subpackages: `numbers` (E.164, ranges, validation), `files` (CSV/XLSX in and out), `uploads`
(options, previews, submit/cancel), `sync` (engine, claims, states, notices, Webex port),
`leads` (service status, listings, digests), `inventory` (schema and loader). Modules:
`directory` and `access` (operators, tenants, who may act), `audit`, `numbers_management`
(search) and `numbers_export` (the CSV export), `outbox`, `backoff`, `settings`, `services`, `errors`, `text`.
"""
