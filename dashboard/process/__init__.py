"""Processes wired from settings: the data folder, the web server, workers, the demo."""
