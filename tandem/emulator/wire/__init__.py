"""HTTP faces of the emulated org: REST, SOAP, Bulk 2.0, OAuth and the control routes."""

from tandem.emulator.wire.app import create_app

__all__ = ["create_app"]
