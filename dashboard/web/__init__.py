"""Flask and Socket.IO: the context views receive, the API, the guard, health, live."""
