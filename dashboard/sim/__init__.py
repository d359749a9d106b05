"""A simulated city: a producer of contract-v1 case stories, built on the catalogue."""
