"""The CKAN harvest check (run by .ci/ckan.sh in its own environment)."""
