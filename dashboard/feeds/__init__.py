"""Real feeds into the stream: replays of 311 exports (and Open311 servers, later)."""
