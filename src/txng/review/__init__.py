"""Review and publication (C7): nothing public before a reviewer approves it."""
