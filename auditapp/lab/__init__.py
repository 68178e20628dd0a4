"""Lab servers that ship with the application (demo lab, fault-injecting DNS responder)."""
