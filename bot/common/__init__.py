"""Small tools every layer may use; they know nothing of ours."""
