"""Streamlit entry point for the analytics dashboards, which read only the published snapshot."""

import os
from pathlib import Path

import streamlit as st

DEFAULT_SNAPSHOT_DIR = "var/snapshot"


def snapshot_dir() -> Path:
    """Directory the pipelines publish the read-only marts snapshot into."""
    return Path(os.environ.get("TESSERA_SNAPSHOT_DIR", DEFAULT_SNAPSHOT_DIR)).absolute()


def home() -> None:
    """Say which snapshot the dashboards read, or that none has been published."""
    st.title("Tessera analytics")
    path = snapshot_dir()
    if not path.is_dir() or not any(path.iterdir()):
        st.info(
            f"No snapshot published yet at `{path}`. Run the pipelines to build and publish one."
        )
        return
    st.caption(f"Reading the published snapshot at `{path}`.")


st.navigation([st.Page(home, title="Home", default=True)]).run()
