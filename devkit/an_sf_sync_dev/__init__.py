"""The an-sf-sync development kit: API sandboxes, the demo and a local Airflow. Never imported by the sync."""
