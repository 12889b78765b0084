"""ccn-gis web API: OGC API – Features, downloads and figures over a province's layers."""

from ccn_gis_api.app import create_app

__all__ = ["create_app"]
