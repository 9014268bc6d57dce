"""A static page (index.html) served at ``/playground`` that uses only the public API."""
