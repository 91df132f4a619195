"""Action Network ⇄ Salesforce sync: the library behind the ``actionnetwork_salesforce_sync`` DAG."""
