"""The outbound clients: they implement the domain's ports for Xero and Cloud POS over HTTP."""
