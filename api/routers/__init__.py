"""The web app's routes, one router per concept, each included by ``create_app``."""
