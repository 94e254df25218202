"""The app's version, written into every notebook it saves; nothing else lives here."""

__version__ = "0.1.0"
