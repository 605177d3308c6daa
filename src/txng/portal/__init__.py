"""The public provincial portal (C8): figures, product search, product and producer pages."""
