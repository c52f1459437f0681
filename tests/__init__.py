"""The test suite (a package, so `tests.conftest` resolves to it even where another installed
distribution ships a top-level `tests` package, as one of CKAN's dependencies does)."""
