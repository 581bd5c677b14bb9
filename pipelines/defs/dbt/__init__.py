"""The dbt project in dbt_project/ as Dagster assets."""
