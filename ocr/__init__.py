"""Pure image -> proposal pipeline. Never imports models/, workbench/ or streamlit."""
