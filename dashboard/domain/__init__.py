"""Pure rules of the domain: the city's configuration, calendars, deadlines, workflow.

Nothing here talks to a server: no Flask, Dash, Socket.IO, Redis client or SQL.
"""
