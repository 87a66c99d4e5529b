"""`python manage.py send_notifications`: send the emails waiting in the outbox, and post the
webhook deliveries waiting."""

from __future__ import annotations

import signal
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections

from booking import notifications, reports, services
from booking.webhooks import delivery as webhooks


class Command(BaseCommand):
    help = (
        "Send the emails waiting in the outbox (confirmations, reminders, changes...), then "
        "record each outcome. Safe to run on several servers at once: each message is claimed "
        "by one worker (SELECT ... FOR UPDATE SKIP LOCKED, then a lease), failures are retried "
        "with back-off, and a worker killed mid-send leaves its messages to be claimed again "
        "once the lease runs out. Without --loop it sends what is due and stops (for cron); "
        "with --loop it keeps going (for systemd) until stopped with SIGTERM or Ctrl-C. Each "
        "round also passes lapsed waitlist offers on to the next waiting patient, and posts the "
        "webhook deliveries that are due (signed, retried with back-off the same way), and folds "
        "the results dashboard's tallies of what changed since the last round."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--loop", action="store_true", help="Keep running, checking every --interval seconds."
        )
        parser.add_argument(
            "--interval",
            type=float,
            default=10.0,
            help="Seconds to wait when nothing is due (with --loop; default 10).",
        )
        parser.add_argument(
            "--batch",
            type=int,
            default=20,
            help="Messages claimed at a time (default 20).",
        )
        parser.add_argument(
            "--rounds",
            type=int,
            default=0,
            help="With --loop, stop after this many rounds (default: run until stopped).",
        )

    def handle(self, *args, loop: bool, interval: float, batch: int, rounds: int, **options):
        if batch < 1 or interval < 0 or rounds < 0:
            raise CommandError("--batch must be at least 1; --interval and --rounds not negative.")
        worker = notifications.default_worker_name()
        stopping = False

        def stop(signum, frame):
            nonlocal stopping
            stopping = True

        previous = {}
        if loop:
            # Finish the message being sent, then stop: its row is recorded, nothing is lost.
            for signum in (signal.SIGTERM, signal.SIGINT):
                previous[signum] = signal.signal(signum, stop)
            self.stdout.write(f"Sending notifications as {worker} (every {interval:g} s).")
        try:
            total = self._run(worker, loop, interval, batch, rounds, lambda: stopping)
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        self.stdout.write(self.style.SUCCESS(f"Done: {total}."))

    def _run(self, worker, loop, interval, batch, rounds, stopping) -> notifications.Outcome:
        done = 0
        total = notifications.Outcome()
        while True:
            # The same periodic worker passes lapsed waitlist offers to the next patient (which
            # queues their offer email); each offer is locked while it is handled, so several
            # workers doing this at once hand each one on once.
            expired = services.expire_offers()
            if expired:
                self.stdout.write(f"{expired} waitlist offer(s) expired and passed on.")
            # And it folds the results dashboard's tallies of the visits and sessions changed
            # since its last pass (booking.reports.tallies), so the dashboard adds up one
            # entry a combination rather than one for every change.
            reports.fold_tallies()
            outcome = notifications.send_due(worker=worker, limit=batch)
            posted = webhooks.send_due(worker=worker, limit=batch)
            if posted.claimed:
                self.stdout.write(str(posted))
            for name in ("claimed", "sent", "retrying", "failed", "skipped"):
                setattr(total, name, getattr(total, name) + getattr(outcome, name))
            if outcome.claimed:
                self.stdout.write(str(outcome))
            if (outcome.claimed == batch or posted.claimed == batch) and not stopping():
                continue  # more may be due right now
            done += 1
            if not loop or stopping() or (rounds and done >= rounds):
                return total
            # A long-running worker drops a connection the database closed or that got too old.
            close_old_connections()
            waited = 0.0
            while waited < interval and not stopping():
                step = min(0.5, interval - waited)
                time.sleep(step)
                waited += step
