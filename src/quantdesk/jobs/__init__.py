"""Background jobs: a registry of named tasks, two runners behind one interface (in-process
inside `quantdesk serve`, Celery workers over Redis), cron schedules, and a record of every run."""
