"""QGIS styles (QML) written into downloaded GeoPackages."""
