"""The command hall server: app factory, storage, live push, auth and domain rules."""
