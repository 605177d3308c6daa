"""GS1 Digital Link resolver (C6): ``/01/{gtin}…``, ``/00/{sscc}``, ``/414/{gln}`` on our domain."""
