"""Start the web app: `python app.py` (also the Hugging Face Spaces entry point)."""

from codegen_ui.settings import Settings
from codegen_ui.web import serve

if __name__ == "__main__":
    serve(Settings.from_env())
