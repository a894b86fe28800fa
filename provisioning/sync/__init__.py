"""Synchronisation with customers' Webex: the engine (`engine`), its work queue (`claims`), the
numbers' sync states (`states`), what operators are told (`notices`) and the Webex port (`port`)."""
