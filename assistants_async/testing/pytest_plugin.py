"""pytest plugin: fixtures for a running loopback server and a client bound to it."""
