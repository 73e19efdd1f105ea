"""lahella-bridge: Lähellä.fi activities as PTV-compatible feeds for the Pohde county."""

__version__ = "0.1.0"
USER_AGENT = f"lahella-bridge/{__version__} (+https://pohde.fi; Pohde wellbeing services county)"
