"""`shell --demo`: a simulated customer Webex, so the demo shows the whole flow up to Ready.

Without a customer organization the shell's numbers would stay pending for ever. The simulation
stands in for Webex Calling's number inventory (`NumbersApi`): numbers the bot adds are listed
as ACTIVE at once (and removed ones vanish), and for a non-integrated service it plays the
customer's admin, who adds submitted numbers and removes released ones in Control Hub. The real
sync engine runs against it after every command, and whatever the bot would post to the space
(the Ready notice) is printed, labelled as simulated.
Nothing leaves the machine.
"""
from __future__ import annotations

from typing import Iterator, TextIO

from sqlalchemy import select

from bot.outbox import flush_outbox
from provisioning.services import Services
from provisioning.sync.engine import SyncEngine
from provisioning.sync.port import ACTIVE, AddResult, NumberKind, RemoteNumber, RemoveResult, Usage
from store.models import RELEASE_STATES, Number, Service

LABEL = "[simulated customer Webex]"


class SimulatedNumbersApi:
    """Webex Calling numbers of every customer location, in memory."""

    def __init__(self, services: Services) -> None:
        self.db = services.db
        self.locations: dict[tuple[str, str], dict[str, str]] = {}

    def add_numbers(self, org_id: str, location_id: str, numbers: list[str], usage: Usage,
                    kind: NumberKind = "DID") -> AddResult:
        location = self.locations.setdefault((org_id, location_id), {})
        location.update(dict.fromkeys(numbers, ACTIVE))
        return AddResult(added=list(numbers))

    def pstn_connection_type(self, org_id: str, location_id: str) -> str:
        """Every simulated location has a Local Gateway, so the bot may push to it (SPEC §5.2)."""
        return "LOCAL_GATEWAY"

    def remove_numbers(self, org_id: str, location_id: str, numbers: list[str]) -> RemoveResult:
        location = self.locations.setdefault((org_id, location_id), {})
        for e164 in numbers:
            location.pop(e164, None)
        return RemoveResult(removed=list(numbers))

    def list_numbers(self, org_id: str, location_id: str) -> Iterator[RemoteNumber]:
        location = self.locations.setdefault((org_id, location_id), {})
        added, removed = self._control_hub(org_id, location_id)
        location.update(dict.fromkeys(added, ACTIVE))
        for e164 in removed:
            location.pop(e164, None)
        return iter([RemoteNumber(e164, state) for e164, state in location.items()])

    def _control_hub(self, org_id: str, location_id: str) -> tuple[list[str], list[str]]:
        """What the customer's admin does for a non-integrated service: adds every number submitted
        to it, and removes every number being released from it."""
        with self.db.sessions() as session:
            rows = session.execute(
                select(Number.e164, Number.sync_state).join(Service, Service.id == Number.service_id)
                .where(Service.org_id == org_id, Service.location_id == location_id,
                       Service.mode == "non-integrated")).all()
        added = [e164 for e164, state in rows if state not in RELEASE_STATES]
        return added, [e164 for e164, state in rows if state in RELEASE_STATES]


class _Printer:
    """Stands in for the Webex client the outbox posts with: prints each message, labelled."""

    def __init__(self, out: TextIO) -> None:
        self.out = out

    def send_markdown(self, room_id: str, markdown: str) -> None:
        print(f"{LABEL} the bot posts: {markdown}", file=self.out)


class SimulatedWebex:
    """Runs the sync engine against the simulation and prints what the bot would post."""

    def __init__(self, services: Services, out: TextIO) -> None:
        self.services = services
        self.api = SimulatedNumbersApi(services)
        self.engine = SyncEngine(services.db, self.api, services.settings, worker_id="shell-demo")
        self.printer = _Printer(out)

    def advance(self) -> int:
        """One sync pass and the messages it produced; returns how many were printed."""
        report = self.engine.run_due()
        if report.pushed or report.live:
            print(f"{LABEL} sync: {report.pushed:,} added, {report.live:,} live", file=self.printer.out)
        sent = flush_outbox(self.services, self.printer, worker="shell-demo")
        if report.pushed or report.live or sent:
            print(file=self.printer.out)
        return sent
