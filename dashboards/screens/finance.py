"""Finance exports: the reports as CSV, XLSX and Parquet files."""

from dashboards import views

views.finance()
