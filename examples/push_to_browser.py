"""Live updates for a reception screen: carebook events pushed over Server-Sent Events.

Run it with ``python examples/push_to_browser.py``. It

1. sets up a Berlin clinic with walk-ins (SQLite, a ManualClock);
2. registers an *observer plugin* (``carebook_on_event``) that hands each committed event
   to the host's :class:`LiveChannel`, which fans it out to the open SSE streams of the
   location (or of the patient) it concerns; a real HTTP server serves the streams at
   ``/events?location=<id>`` and ``/events?patient=<id>``;
3. a reception screen opens its stream; a visit is booked, moved, and cancelled, and two
   walk-ins check in: the screen sees each change and the live wait time as it happens;
4. a second screen that lost its connection reconnects with ``Last-Event-ID`` and gets
   what it missed, once, in order;
5. the frames carry ids, times and counts, never a name.

Observers run where events are dispatched: here the host dispatches in its own process
(``cb.events.run_pending()``, as its scheduler would). With ``carebook worker`` in another
process, the observer runs in the worker: have it publish to something the web processes
subscribe to (Redis pub/sub, PostgreSQL ``NOTIFY``, a broker) and keep the
:class:`LiveChannel` in the web processes. See docs/hooks.md, "Pushing to a host app".
"""

from __future__ import annotations

import collections
import itertools
import json
import queue
import tempfile
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pendulum

from carebook import Actor, Carebook, CarebookConfig, ManualClock, Money, bootstrap
from carebook.events import (
    AppointmentBooked,
    AppointmentCancelled,
    AppointmentConfirmed,
    AppointmentEnteredInError,
    AppointmentHeld,
    AppointmentNoShow,
    AppointmentRescheduled,
    Event,
    PatientArrived,
    SessionCompleted,
    SessionStarted,
    WaitTimeChanged,
)
from carebook.hookspecs import EventContext, hookimpl
from carebook.plugins import make_plugin_manager
from carebook.scheduling import (
    BookAppointment,
    CancelAppointment,
    RescheduleAppointment,
    WeeklyHours,
    WorkingPlan,
)
from carebook.serialization import event_to_json
from carebook.walkins import CheckIn

BERLIN = "Europe/Berlin"
PUSHED = (
    AppointmentHeld,
    AppointmentBooked,
    AppointmentConfirmed,
    AppointmentRescheduled,
    AppointmentCancelled,
    AppointmentNoShow,
    AppointmentEnteredInError,
    PatientArrived,
    SessionStarted,
    SessionCompleted,
    WaitTimeChanged,
)
"""What a screen wants live: each change to an appointment, and the wait time (not the
reminders, which are the patient's mail). An offer from a waitlist is a hold for one
patient (``AppointmentHeld``): their own stream gets it."""


class Frame:
    """One SSE message: ``id`` (the event id), ``event`` (its type) and JSON ``data``."""

    def __init__(self, event: Event) -> None:
        self.id = str(event.event_id)
        self.event = event.type
        self.data = event_to_json(event)
        self.location = str(getattr(event, "location_id", "")) or None
        self.patient = str(getattr(event, "patient_id", "")) or None

    def wire(self) -> bytes:
        return f"id: {self.id}\nevent: {self.event}\ndata: {self.data}\n\n".encode()


class LiveChannel:
    """The host's fan-out: each open stream gets the frames of its location or patient.

    carebook delivers an event to observers at least once, so a frame whose id is among
    the last ``keep`` is dropped; those frames stay for clients that reconnect with
    ``Last-Event-ID``. Memory is bounded by ``keep``."""

    def __init__(self, keep: int = 500) -> None:
        self._lock = threading.Lock()
        self._streams: dict[int, tuple[str, queue.Queue[Frame]]] = {}
        self._recent: collections.deque[Frame] = collections.deque(maxlen=keep)
        self._seen: set[str] = set()
        self._ids = itertools.count()

    def send(self, frame: Frame) -> None:
        with self._lock:
            if frame.id in self._seen:
                return
            if len(self._recent) == self._recent.maxlen:
                self._seen.discard(self._recent[0].id)  # bounded: the kept frames only
            self._seen.add(frame.id)
            self._recent.append(frame)
            for key, inbox in self._streams.values():
                if key in (frame.location, frame.patient):
                    inbox.put(frame)

    def open(self, key: str, last_event_id: str | None) -> tuple[int, queue.Queue[Frame]]:
        """A stream of ``key``'s frames, starting after ``last_event_id`` if it is kept."""
        inbox: queue.Queue[Frame] = queue.Queue()
        with self._lock:
            recent = list(self._recent)
            ids = [f.id for f in recent]
            if last_event_id in ids:
                for frame in recent[ids.index(last_event_id) + 1 :]:
                    if key in (frame.location, frame.patient):
                        inbox.put(frame)
            number = next(self._ids)
            self._streams[number] = (key, inbox)
        return number, inbox

    def close(self, number: int) -> None:
        with self._lock:
            self._streams.pop(number, None)

    def sent(self, key: str) -> int:
        """How many frames of ``key`` (a location or patient id) were kept so far."""
        with self._lock:
            return sum(key in (f.location, f.patient) for f in self._recent)


class PushObserver:
    """The carebook plugin: every committed appointment or wait-time event to the host."""

    def __init__(self, live: LiveChannel) -> None:
        self.live = live

    @hookimpl
    def carebook_on_event(self, event: Event, context: EventContext) -> None:
        if isinstance(event, PUSHED):
            self.live.send(Frame(event))


def serve(live: LiveChannel, stopping: threading.Event) -> ThreadingHTTPServer:
    """``GET /events?location=<id>`` or ``?patient=<id>``: an SSE stream (the host checks
    who may watch what; this demo does not)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            query = parse_qs(parts.query)
            keys = query.get("location", []) + query.get("patient", [])
            if parts.path != "/events" or len(keys) != 1:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            number, inbox = live.open(keys[0], self.headers.get("Last-Event-ID"))
            try:
                while not stopping.is_set():
                    try:
                        frame = inbox.get(timeout=0.1)
                    except queue.Empty:
                        continue
                    self.wfile.write(frame.wire())
                    self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                pass  # the screen went away
            finally:
                live.close(number)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # request lines carry ids in the query: the host's access log decides

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class Screen:
    """A browser's EventSource, in a thread: it reads frames as they arrive."""

    def __init__(self, url: str, last_event_id: str | None = None) -> None:
        request = urllib.request.Request(url)
        if last_event_id is not None:
            request.add_header("Last-Event-ID", last_event_id)
        self._response = urllib.request.urlopen(request, timeout=30)
        self.frames: list[dict[str, str]] = []
        self._arrived = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        fields: dict[str, str] = {}
        try:
            for raw in self._response:
                line = raw.decode().rstrip("\n")
                if line:
                    name, _, value = line.partition(": ")
                    fields[name] = value
                    continue
                with self._arrived:
                    self.frames.append(fields)
                    self._arrived.notify_all()
                fields = {}
        except (OSError, ValueError):
            pass  # closed

    def wait_for(self, count: int) -> list[dict[str, str]]:
        with self._arrived:
            if not self._arrived.wait_for(lambda: len(self.frames) >= count, timeout=10):
                raise SystemExit(f"the screen got {len(self.frames)} frames, not {count}")
            return list(self.frames)

    def close(self) -> None:
        self._response.close()


def describe(frame: dict[str, str]) -> str:
    data = json.loads(frame["data"])
    kind = frame["event"]
    if kind == "WaitTimeChanged" and data["wait_minutes"] is None:
        return f"{kind:<22} nobody on duty ({data['cause']})"
    if kind == "WaitTimeChanged":
        return (
            f"{kind:<22} wait {data['wait_minutes']} min, {data['queue_length']} waiting "
            f"({data['cause']})"
        )
    if kind == "AppointmentRescheduled":
        return f"{kind:<22} {local(data['previous_start'])} -> {local(data['start'])}"
    if kind == "AppointmentBooked":
        return f"{kind:<22} {local(data['start'])} {data['status']}"
    if kind == "AppointmentCancelled":
        return f"{kind:<22} reason {data['reason']}, by {data['by']}"
    return kind


def local(text: str) -> str:
    instant = pendulum.parse(text)
    assert isinstance(instant, pendulum.DateTime)
    return instant.in_tz(BERLIN).format("ddd HH:mm")


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="carebook-push-") as folder:
        run(f"sqlite:///{Path(folder) / 'clinic.db'}")


def run(url: str) -> None:
    clock = ManualClock(pendulum.datetime(2025, 6, 2, 9, 0, tz=BERLIN))  # Monday 09:00
    live = LiveChannel()
    cb = bootstrap(
        CarebookConfig(
            storage="sqlalchemy",
            storage_options={"url": url, "migrate": True},
            notifiers=(),
            dispatch="manual",
        ),
        clock=clock,
        plugin_manager=make_plugin_manager(plugins=[PushObserver(live)]),
    )
    stopping = threading.Event()
    server = serve(live, stopping)
    base = f"http://127.0.0.1:{server.server_address[1]}/events"
    try:
        show(cb, clock, live, base)
    finally:
        stopping.set()
        server.shutdown()
        server.server_close()
        cb.close()


def show(cb: Carebook, clock: ManualClock, live: LiveChannel, base: str) -> None:
    admin = Actor.admin()
    org = cb.admin.create_organisation(admin, name="Praxis Mitte", min_notice=0)
    office = cb.admin.add_location(
        admin,
        organisation_id=org.id,
        name="Mitte",
        timezone=BERLIN,
        opening_hours=WeeklyHours.every_day("08:00-18:00"),
    )
    plan = [WorkingPlan(location_id=office.id, hours=WeeklyHours.every_day("08:00-18:00"))]
    doctor = cb.admin.add_practitioner(admin, organisation_id=org.id, name="Dr Roth", plans=plan)
    visit = cb.admin.add_service(
        admin,
        organisation_id=org.id,
        name="Visit",
        duration=15,
        price=Money(4_500, "EUR"),
        practitioner_ids={doctor.id},
    )
    desk = Actor.staff(office.id)
    cb.walkins.configure(admin, office.id, service_id=visit.id)
    print("1. a Berlin clinic with walk-ins; an observer plugin feeds the SSE streams")

    screen = Screen(f"{base}?location={office.id}")
    print("2. the reception screen opens /events?location=<Mitte>")
    time.sleep(0.2)  # the stream is registered before the first event

    shown = 0

    def step(what: str) -> None:
        nonlocal shown
        cb.events.run_pending()  # what the host's scheduler (or a worker) does
        got = screen.wait_for(live.sent(str(office.id)))
        print(f"   {what}")
        for frame in got[shown:]:
            print(f"      screen: {describe(frame)}")
        shown = len(got)

    ana = cb.admin.register_patient(admin, organisation_id=org.id)
    booked = cb.booking.book(
        desk,
        BookAppointment(
            location_id=office.id,
            practitioner_id=doctor.id,
            patient_id=ana.id,
            service_ids=[visit.id],
            start=pendulum.datetime(2025, 6, 3, 10, 0, tz=BERLIN),
            idempotency_key="ana-1",
        ),
    )
    print("3. the clinic's morning")
    step("Ana books Tuesday 10:00")
    cb.lifecycle.reschedule(
        Actor.patient(ana.id),
        RescheduleAppointment(
            appointment_id=booked.id, start=pendulum.datetime(2025, 6, 3, 11, 30, tz=BERLIN)
        ),
    )
    step("Ana moves it to 11:30")
    cb.walkins.on_duty(desk, office.id, doctor.id)
    step("Dr Roth starts taking walk-ins")
    for n in (1, 2):
        clock.advance(minutes=5)
        walk_in = cb.admin.register_patient(desk, organisation_id=org.id)
        cb.walkins.check_in(desk, CheckIn(location_id=office.id, patient_id=walk_in.id))
        step(f"walk-in {n} checks in")
    cb.lifecycle.cancel(Actor.patient(ana.id), CancelAppointment(appointment_id=booked.id))
    step("Ana cancels")
    seen = screen.wait_for(shown)
    print(f"   frames: {len(seen)}, ids unique: {len({f['id'] for f in seen}) == len(seen)}")

    print("4. a second screen lost its stream after the move, and reconnects")
    again = Screen(f"{base}?location={office.id}", last_event_id=seen[1]["id"])
    missed = again.wait_for(len(seen) - 2)
    print(f"   Last-Event-ID = frame 2: it gets frames 3-{len(seen)}: {missed == seen[2:]}")
    patient_view = Screen(f"{base}?patient={ana.id}", last_event_id=seen[0]["id"])
    mine = patient_view.wait_for(2)
    print(f"   Ana's own stream after frame 1: {[f['event'] for f in mine]}")

    print("5. what travelled: ids, times, counts")
    words = " ".join(f["data"] for f in seen)
    print(f"   'Dr Roth' or 'Praxis' in a frame: {'Dr Roth' in words or 'Praxis' in words}")
    for screen_ in (screen, again, patient_view):
        screen_.close()


if __name__ == "__main__":
    main()
