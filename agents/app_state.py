"""The app's shared resources, cached once per Streamlit process (st.cache_resource).

Pages import from here; they never build pools, embedders or clients themselves.
"""

from __future__ import annotations

import streamlit as st

from agents.config import load_settings
from agents.resources import Resources, build_resources


@st.cache_resource(show_spinner="Starting Sourced…")
def shared_resources() -> Resources:
    return build_resources(load_settings())
