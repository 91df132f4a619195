"""DAG parse time beyond importing Airflow (target: < 0.3 s).

Each sample runs in a fresh interpreter, the way the DAG processor meets the file: import
airflow.sdk first (the framework's cost), then time executing the DAG file alone.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
from pathlib import Path

DAG_FILE = Path(__file__).resolve().parents[1] / "dags" / "actionnetwork_salesforce_sync.py"
PROBE = f"""
import time, runpy
import airflow.sdk
start = time.perf_counter()
runpy.run_path({str(DAG_FILE)!r})
print(time.perf_counter() - start)
"""


def main(samples: int = 5) -> None:
    times = [float(subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                                  check=True).stdout.split()[-1]) for _ in range(samples)]
    print(f"DAG parse time beyond `import airflow.sdk`: median {statistics.median(times):.3f} s, "
          f"max {max(times):.3f} s over {samples} fresh interpreters (target < 0.3 s)")


if __name__ == "__main__":
    main()
