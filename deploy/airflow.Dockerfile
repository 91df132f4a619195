# The sync on Airflow's official image, for docker-compose.yaml (CeleryExecutor).
# Keep the tag in step with the apache-airflow pin in constraints.txt.
FROM apache/airflow:3.3.2-python3.11

COPY --chown=airflow:0 requirements.txt constraints.txt pyproject.toml README.md /opt/an-sf-sync/
COPY --chown=airflow:0 include /opt/an-sf-sync/include
RUN pip install --no-cache-dir -r /opt/an-sf-sync/requirements.txt -c /opt/an-sf-sync/constraints.txt \
 && pip install --no-cache-dir --no-deps /opt/an-sf-sync
