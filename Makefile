# The two commands of the README's quick start are `make run` and `make test`.
# Everything else here is what they need, runnable on its own.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test setup database lint check-deploy screenshots benchmark clean

## make run: set everything up, then serve the app with demo data at http://127.0.0.1:8000,
## with the email worker beside it (emails printed to the console); Ctrl-C stops both
run: setup database
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py run_with_worker 127.0.0.1:8000

## make test: set up what the tests need, then run the whole suite on PostgreSQL
test: setup
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/ruff check .
	$(BIN)/pytest

## make setup: project-local virtual environment, Python and npm dependencies, .env
setup: $(STAMP) node_modules/.package-lock.json .env

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit("Python 3.11 or newer is needed (found %s)" % sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@$(BIN)/python -c 'import weasyprint' 2>/dev/null || echo "!!! WeasyPrint cannot load Pango: receipts and superbills will not render (Debian/Ubuntu: sudo apt-get install libpango-1.0-0 libpangoft2-1.0-0; macOS: brew install pango)"
	touch $(STAMP)

# Bootstrap comes from the npm registry, pinned by package-lock.json, and is served by the app.
node_modules/.package-lock.json: package.json package-lock.json
	@command -v npm >/dev/null || { echo "npm is needed to install Bootstrap (Debian/Ubuntu: sudo apt-get install npm; macOS: brew install node)"; exit 1; }
	npm ci --omit=dev --ignore-scripts --no-audit --no-fund
	touch $@

.env:
	cp .env.example .env

## make database: find or start PostgreSQL (see clinic/database.py), then migrate
database: setup
	$(BIN)/python manage.py migrate --no-input

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

## make check-deploy: Django's deployment checklist with production settings
# Production serves Bootstrap and htmx from node_modules: if it went missing after setup (a removed or
# partial node_modules), install it again rather than fail on a missing static directory.
check-deploy: setup
	@test -f node_modules/bootstrap/dist/css/bootstrap.min.css -a -f node_modules/htmx.org/dist/htmx.min.js || { \
	  echo "node_modules/bootstrap or htmx.org is missing: installing it (npm ci)"; \
	  rm -f node_modules/.package-lock.json; $(MAKE) node_modules/.package-lock.json; }
	DEBUG=false SECRET_KEY=$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(64))') \
	ALLOWED_HOSTS=booking.example.org $(BIN)/python manage.py check --deploy --fail-level WARNING

## make screenshots: run the browser journeys and save their screenshots in docs/screenshots/
screenshots: setup
	SCREENSHOTS=1 $(BIN)/pytest tests/e2e

## make benchmark: the booking engine's figures at 10,000 and 1,000,000 appointments
benchmark: setup database
	$(BIN)/python manage.py benchmark --appointments 10000
	$(BIN)/python manage.py benchmark --appointments 1000000

clean:
	rm -rf $(VENV) node_modules staticfiles
