"""The dbt project handle, with a manifest guaranteed to exist once this module is imported."""

from pathlib import Path

from dagster_dbt import DbtProject

DBT_PROJECT_DIR = Path(__file__).resolve().parents[3] / "dbt_project"

tessera_dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
# `dagster dev` re-parses on every load; elsewhere (a clean clone, CI, `definitions validate`)
# parse once when no manifest exists. Deployments should prepare it at build time instead.
tessera_dbt_project.prepare_if_dev()
if not tessera_dbt_project.manifest_path.exists():
    tessera_dbt_project.preparer.prepare(tessera_dbt_project)
