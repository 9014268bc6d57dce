"""The ``openpika`` command line (``openpika.cli.main:main``)."""
