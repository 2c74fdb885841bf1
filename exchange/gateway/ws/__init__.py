"""The websocket faces: market streams and user data streams, fed from committed results."""
