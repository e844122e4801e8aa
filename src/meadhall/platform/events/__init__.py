"""Real-time events: the bus (in-process or Redis) and the WebSocket gateway."""
