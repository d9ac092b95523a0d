"""The background worker: `python -m audit.worker` runs the huey consumer for the configured app."""
from . import create_app


def main():
    app = create_app()
    consumer = app.extensions["huey"].create_consumer(workers=1, periodic=False)
    consumer.run()


if __name__ == "__main__":
    main()
