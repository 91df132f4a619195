"""Load: apply a run's plan to both sides, one step per task; every write idempotent."""
