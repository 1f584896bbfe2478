"""The tierwatch dashboard: Streamlit pages that ask queries/ and show the answers."""
