"""Front doors: Slack (`handlers.slack`) and the customer consent pages (`handlers.web`)."""
