"""Authority actions (C12): suspensions, reinstatements and lot recalls by enforcers."""
