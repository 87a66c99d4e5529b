"""`python manage.py benchmark`: speed and correctness figures of the booking engine.

Builds a throwaway PostgreSQL database with synthetic data at the chosen scale, measures
in-process, races real separate processes for a few slots, drops the database, and prints
one line per figure as `name: value unit`.

The parts are in `booking.benchmark`: the world (`world`), what is measured in-process
(`measures`), processes racing (`races`) and the dashboard (`outcomes`).
"""

from __future__ import annotations

import gc
import random
import resource
import time
import uuid

from django.core.management.base import BaseCommand, CommandError

from booking.benchmark.api import measure_api
from booking.benchmark.checkout import measure_checkout
from booking.benchmark.figures import Figures
from booking.benchmark.measures import measure_course_booking, measure_day_view, measure_slot_search
from booking.benchmark.outcomes import measure_dashboard
from booking.benchmark.races import measure_race, measure_throughput
from booking.benchmark.world import build_world, throwaway_database


class Command(BaseCommand):
    help = (
        "Measure the booking engine on a throwaway database with synthetic data: slot search, "
        "course booking, the front desk's day view, the FHIR API's $find and $book, the desk's "
        "check-out (complete, invoice, payment), real processes racing for the same "
        "slots, and the results dashboard over one and ten years of courses. Prints `name: value unit` "
        "lines; the database is dropped afterwards."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--appointments",
            type=int,
            default=10_000,
            help="How many appointments to generate (10,000 up to 1,000,000 or more).",
        )
        parser.add_argument("--searches", type=int, default=40, help="Slot searches to time.")
        parser.add_argument(
            "--courses", type=int, default=20, help="Six-session courses to book and time."
        )
        parser.add_argument(
            "--bookers",
            type=int,
            default=8,
            help="Processes racing for the same slots (at least 2; the figures in the README are for 8).",
        )
        parser.add_argument(
            "--contested-slots", type=int, default=4, help="Slots the bookers race for."
        )
        parser.add_argument(
            "--report-courses",
            type=int,
            default=20_000,
            help="Courses (with sessions, notes and surveys) behind the results dashboard.",
        )
        parser.add_argument(
            "--api-bookings", type=int, default=20, help="Appointments to book through the API."
        )
        parser.add_argument("--seed", type=int, default=2026)

    def handle(self, *args, **options):
        if options["bookers"] < 2:
            raise CommandError("--bookers must be at least 2.")
        random.seed(options["seed"])
        name = f"heelclinic_bench_{uuid.uuid4().hex[:10]}"
        figures = Figures([])
        started = time.perf_counter()
        with throwaway_database(name) as url:
            self.stderr.write(f"Building {options['appointments']:,} appointments in {name}...")
            world = build_world(options["appointments"], seed=options["seed"])
            figures.add("appointments", world["appointments"], "rows")
            figures.add("build_seconds", round(time.perf_counter() - started, 1), "s")
            # As clinic/wsgi.py does once the app is loaded in each server process.
            gc.collect()
            gc.freeze()
            measure_slot_search(world, options["searches"], figures)
            measure_course_booking(world, options["courses"], figures)
            measure_day_view(world, figures)
            measure_api(world, options["searches"], options["api_bookings"], figures)
            measure_checkout(world, figures)
            measure_race(world, url, options["bookers"], options["contested_slots"], figures)
            measure_throughput(world, url, options["bookers"], figures)
            # Last: it drops the overlap constraints of this throwaway database (see there).
            measure_dashboard(world, options["report_courses"], figures)
        own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        figures.add("peak_rss_mb", round(max(own, children) / 1024, 1), "MB")
        for metric, value, unit in figures.lines:
            self.stdout.write(f"{metric}: {value} {unit}".rstrip())
