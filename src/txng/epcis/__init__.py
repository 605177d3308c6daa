"""GS1 EPCIS 2.0: event capture, validation, identifiers, event hashes, storage and query."""
