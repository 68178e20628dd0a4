"""Real servers (BIND 9 first) that the test suite starts on loopback, talks to and stops."""
