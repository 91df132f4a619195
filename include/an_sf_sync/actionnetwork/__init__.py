"""Action Network: a paced, concurrent REST client (``.client``), its records, errors and the hook.

Kept empty on purpose: the DAG's retry policy names ``.errors`` at parse time, and that import must
not pull in requests or Airflow.
"""
