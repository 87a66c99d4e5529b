"""`python manage.py benchmark`, its parts: the throwaway world it builds and what it
measures. The command itself is booking/management/commands/benchmark.py."""
