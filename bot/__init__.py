"""xero-bot: connects Cloud POS stores to Xero organisations from Slack."""
