"""Start the web app: `python app.py` (also the Hugging Face Spaces entry point)."""

from codegen_ui.settings import Settings
from codegen_ui.ui import create, launch

settings = Settings.from_env()
demo, controller = create(settings)

if __name__ == "__main__":
    try:
        launch(demo, settings.host, settings.port)
    finally:
        controller.workspaces.shutdown()
