"""Local stand-ins for the services the bot talks to, for tests and a hands-on sandbox."""
