# An Astro project: `astro dev start` runs it locally, `astro deploy` ships it to Astro.
# Astro Runtime 3.x is Airflow 3; use the runtime whose Airflow matches the one this project pins
# (apache-airflow in requirements-dev.txt / constraints.txt: 3.3.x).
FROM astrocrpublic.azurecr.io/runtime:3.3-1

# The runtime's build steps have installed packages.txt (OS packages) and requirements.txt (Python
# packages) and copied this project to /usr/local/airflow. Install the sync itself from that copy,
# so that its "actionnetwork" connection type, its CLI (`an-sf-sync doctor`) and the DAG's imports
# work in every Airflow component.
RUN pip install --no-cache-dir --no-deps /usr/local/airflow
