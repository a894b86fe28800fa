"""The domain stays free of the transport: importing it loads no Flask, SDK or bot code."""
from __future__ import annotations

import subprocess
import sys

from handlers import REGISTRY

SPEC_COMMANDS = ("help", "tenant", "leads", "upload", "import", "submit", "cancel", "template", "numbers", "status",
                 "digest")


def test_provisioning_imports_no_transport_modules():
    code = ("import sys, pkgutil, importlib, provisioning\n"
            "for m in pkgutil.iter_modules(provisioning.__path__): importlib.import_module('provisioning.' + m.name)\n"
            "bad = [n for n in sys.modules if n.split('.')[0] in ('flask', 'webexpythonsdk', 'bot', 'handlers')]\n"
            "print(bad); sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_handlers_import_no_transport_modules():
    code = ("import sys, handlers\n"
            "bad = [n for n in sys.modules if n.split('.')[0] in ('flask', 'webexpythonsdk', 'bot')]\n"
            "print(bad); sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_spec_command_is_registered_with_usage_and_examples():
    for name in SPEC_COMMANDS:
        command = REGISTRY.get(name)
        assert command is not None, name
        assert command.usage.startswith(name) and command.summary and command.examples, name
