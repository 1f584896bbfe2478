"""The dashboard's pages, run by st.navigation from app.py. Not named `pages/`: a folder
of that name next to the entry script switches Streamlit to its older multipage mode."""
